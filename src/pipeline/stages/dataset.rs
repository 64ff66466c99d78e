//! `dataset`: a dataset read from its distribution format into `train.parquet`, `val.parquet`,
//! `test.parquet` and `dataset.json` — from the system location, a folder or archive, or a
//! verified download.

use super::{params_of, resolve_path, typed, Ctx, External};
use crate::data::{prepare, DatasetName, PrepareSpec, Source};
use crate::error::{Error, Result};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// Parameters of a `dataset` stage.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DatasetParams {
    /// The dataset's name (`fashion-mnist`, `cifar10`, …).
    pub dataset: String,
    /// `system` (default), `download`, or a folder or archive.
    #[serde(default)]
    pub from: Option<String>,
    /// A folder with the paper's split files.
    #[serde(default)]
    pub splits: Option<String>,
    /// Fraction of each class of train held out for validation (without split files).
    #[serde(default = "tenth")]
    pub val_fraction: f64,
    /// Seed of that split.
    #[serde(default)]
    pub seed: u64,
}

fn tenth() -> f64 {
    0.1
}

pub fn check(params: &Map<String, Value>) -> Result<(), (Vec<String>, String)> {
    let p: DatasetParams = typed(params)?;
    p.dataset
        .parse::<DatasetName>()
        .map_err(|e| (vec!["dataset".into()], e.to_string()))?;
    if !(0.0..1.0).contains(&p.val_fraction) {
        return Err((
            vec!["val-fraction".into()],
            "`val-fraction` must be in [0, 1)".into(),
        ));
    }
    Ok(())
}

fn source_path(p: &DatasetParams, name: DatasetName, base: &Path) -> Option<PathBuf> {
    match p.from.as_deref() {
        None | Some("system") => name.system_location(),
        Some("download") => None,
        Some(path) => Some(resolve_path(path, base)),
    }
}

pub fn external(params: &Map<String, Value>, base: &Path) -> External {
    let mut ext = External::default();
    let Ok(p) = typed::<DatasetParams>(params) else {
        return ext;
    };
    let Ok(name) = p.dataset.parse::<DatasetName>() else {
        return ext;
    };
    match source_path(&p, name, base) {
        Some(path) => ext.files.push(("from".into(), path)),
        None if p.from.as_deref() == Some("download") => {
            let remote: Vec<Value> = name
                .remote_files()
                .into_iter()
                .map(|f| json!({"url": f.url, "file": f.file_name, "checksum": format!("{:?}", f.checksum)}))
                .collect();
            ext.params.push(("remote".into(), Value::Array(remote)));
        }
        None => ext
            .params
            .push(("from".into(), json!("system (not installed)"))),
    }
    if let Some(s) = &p.splits {
        ext.files.push(("splits".into(), resolve_path(s, base)));
    }
    ext
}

pub fn run(ctx: &mut Ctx) -> Result<Value> {
    let p: DatasetParams = params_of(ctx.job)?;
    let name: DatasetName = p.dataset.parse()?;
    let source = match p.from.as_deref() {
        Some("download") => Source::Download {
            cache: std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(".cache/l2tww/datasets")
                .join(name.to_string()),
            files: name.remote_files(),
        },
        None | Some("system") => match name.system_location() {
            Some(p) if p.is_dir() => Source::System,
            _ => {
                return Err(Error::Invalid(format!(
                    "{name} is not installed at a known system location; set `from:` to a folder or archive, or `from: download`{}",
                    if name == DatasetName::FashionMnist { " (or `apt-get install dataset-fashion-mnist`)" } else { "" }
                )))
            }
        },
        Some(path) => Source::Path(resolve_path(path, &ctx.job.base)),
    };
    (ctx.progress)(0, 1, "reading");
    let prepared = prepare(&PrepareSpec {
        dataset: name,
        source,
        out: ctx.out.to_path_buf(),
        splits_dir: p.splits.as_deref().map(|s| resolve_path(s, &ctx.job.base)),
        val_fraction: p.val_fraction,
        seed: p.seed,
        progress: false,
    })?;
    (ctx.progress)(1, 1, "written");
    let rows: Map<String, Value> = prepared
        .splits
        .iter()
        .map(|(n, _, r)| (n.clone(), json!(r)))
        .collect();
    Ok(json!({"classes": prepared.classes.len(), "rows": rows}))
}
