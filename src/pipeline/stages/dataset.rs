//! `dataset`: a dataset read from its distribution format into `train.parquet`, `val.parquet`,
//! `test.parquet` and `dataset.json` — from the system location, a folder or archive, or a
//! verified download. Records each split's images per class, so that later stages' choices are
//! checked against them before anything trains.

use super::{resolve_path, External, FileParam, Inputs, StageContext, StageKind};
use crate::data::store::class_counts;
use crate::data::{prepare, DatasetName, PrepareSpec, Source};
use crate::error::{Error, Result};
use crate::pipeline::kinds::{Param, Shape};
use crate::yaml::bounds::fraction;
use crate::yaml::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// Parameters of a `dataset` stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DatasetParams {
    /// The dataset's name (`fashion-mnist`, `cifar10`, …).
    pub dataset: String,
    /// `system` (default), `download`, or a folder or archive (absolute once planned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// A folder with the paper's split files (absolute once planned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub splits: Option<PathBuf>,
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

impl DatasetParams {
    fn name(&self) -> Result<DatasetName> {
        self.dataset.parse()
    }
}

/// The `dataset` kind.
pub struct DatasetStage;

impl StageKind for DatasetStage {
    type Params = DatasetParams;
    const PARAMS: &'static [Param] = &[
        Param::new("dataset", Shape::Scalar),
        Param::new("from", Shape::Scalar),
        Param::new("splits", Shape::Scalar),
        Param::new("val-fraction", Shape::Scalar),
        Param::new("seed", Shape::Scalar),
    ];

    fn check(p: &DatasetParams) -> Result<(), FieldError> {
        p.name()
            .map_err(|e| FieldError::at(&["dataset"], e.to_string()))?;
        fraction("val-fraction", p.val_fraction)
    }

    fn resolve(p: &mut DatasetParams, base: &Path) -> External {
        let mut ext = External::default();
        let Ok(name) = p.name() else { return ext };
        match p.from.as_deref() {
            None | Some("system") => match name.system_location() {
                Some(path) => ext.files.push(file("from", path)),
                None => ext
                    .params
                    .push(("from".into(), json!("system (not installed)"))),
            },
            Some("download") => {
                let remote: Vec<Value> = name
                    .remote_files()
                    .into_iter()
                    .map(|f| json!({"url": f.url, "file": f.file_name, "checksum": format!("{:?}", f.checksum)}))
                    .collect();
                ext.params.push(("remote".into(), Value::Array(remote)));
            }
            Some(path) => {
                let path = resolve_path(Path::new(path), base);
                p.from = Some(path.display().to_string());
                ext.files.push(file("from", path));
            }
        }
        if let Some(s) = &mut p.splits {
            *s = resolve_path(s, base);
            ext.files.push(file("splits", s.clone()));
        }
        ext
    }

    fn unavailable(p: &DatasetParams) -> Option<FieldError> {
        let name = p.name().ok()?;
        let param = match p.from.as_deref() {
            None => "dataset",
            Some("system") => "from",
            Some(_) => return None,
        };
        if name.system_location().is_some_and(|d| d.is_dir()) {
            return None;
        }
        Some(FieldError::at(&[param], not_installed(name)))
    }

    fn classes(p: &DatasetParams, _: &Inputs) -> Option<usize> {
        p.name().ok()?.num_classes()
    }

    fn run(p: &DatasetParams, ctx: &mut StageContext) -> Result<Value> {
        let name = p.name()?;
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
                _ => return Err(Error::Invalid(not_installed(name))),
            },
            Some(path) => Source::Path(PathBuf::from(path)),
        };
        (ctx.progress)(0, 1, "reading");
        let prepared = prepare(&PrepareSpec {
            dataset: name,
            source,
            out: ctx.out.to_path_buf(),
            splits_dir: p.splits.clone(),
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
        let (names, counts) = split_counts(ctx.out)?;
        Ok(
            json!({"classes": prepared.classes.len(), "rows": rows, "class_names": names, "counts": counts}),
        )
    }
}

/// Why a dataset cannot be read from the system, and what to write instead.
fn not_installed(name: DatasetName) -> String {
    let at = name
        .system_location()
        .map(|p| format!(" ({} does not exist)", p.display()))
        .unwrap_or_default();
    let apt = if name == DatasetName::FashionMnist {
        " (or `apt-get install dataset-fashion-mnist`)"
    } else {
        ""
    };
    format!(
        "{name} is not installed at a known system location{at}; set `from:` to a folder or \
         archive, or `from: download`{apt}"
    )
}

fn file(name: &str, path: PathBuf) -> FileParam {
    FileParam {
        name: name.into(),
        param: vec![name.into()],
        path,
    }
}

/// The class names and every split's images per class, as the manifest records them.
pub fn split_counts(dir: &Path) -> Result<(Vec<String>, Map<String, Value>)> {
    let mut names = Vec::new();
    let mut counts = Map::new();
    for split in ["train", "val", "test"] {
        let (n, c) = class_counts(&dir.join(format!("{split}.parquet")))?;
        names = n;
        counts.insert(split.into(), json!(c));
    }
    Ok((names, counts))
}
