//! `prepare(spec)`: find or fetch a dataset, read it from its distribution format, choose the
//! train/val/test splits (the paper's split files, or a seeded stratified validation split), and
//! write one Parquet file per split into the output folder atomically (a temporary folder renamed
//! into place; nothing partial is left on error).
use crate::data::acquire::{fetch_all, RemoteFile};
use crate::data::catalog::DatasetName;
use crate::data::extract::{extract, is_archive};
use crate::data::formats;
use crate::data::sample::{RawDataset, Sample};
use crate::data::splits::read_paper_splits;
use crate::data::store::write_split;
use crate::data::subset::Subset;
use crate::error::{Error, Result};
use crate::fsx;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Version of the readers, recorded in every file's provenance.
pub const READER_VERSION: &str = "l2tww-data/1";

/// Where the dataset comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A folder or an archive (`.tar`, `.tar.gz`, `.tgz`, `.zip`) on disk.
    Path(PathBuf),
    /// The known system location (Fashion-MNIST from Debian's `dataset-fashion-mnist`).
    System,
    /// Download `files` into `cache` (skipping what is present and verified), extract archives.
    Download {
        /// Folder for the downloads and the extracted data.
        cache: PathBuf,
        /// What to fetch (normally [`DatasetName::remote_files`]).
        files: Vec<RemoteFile>,
    },
}

/// What to prepare.
#[derive(Debug, Clone)]
pub struct PrepareSpec {
    /// The dataset.
    pub dataset: DatasetName,
    /// Where it comes from.
    pub source: Source,
    /// The output folder (`train.parquet`, `val.parquet`, `test.parquet`, `dataset.json`).
    pub out: PathBuf,
    /// A folder with the paper's split files (`<prefix>-{train,val,test}.json`), if any.
    pub splits_dir: Option<PathBuf>,
    /// Fraction of each class of `train` held out as `val` when no split files are given.
    pub val_fraction: f64,
    /// Seed of the validation split.
    pub seed: u64,
    /// Show progress bars for downloads.
    pub progress: bool,
}

/// The result of [`prepare`].
#[derive(Debug, Clone)]
pub struct PreparedDataset {
    /// The output folder.
    pub dir: PathBuf,
    /// Class names.
    pub classes: Vec<String>,
    /// (split name, Parquet file, rows).
    pub splits: Vec<(String, PathBuf, usize)>,
}

/// Resolves the source to a folder a reader can read; an archive is extracted into `scratch`.
fn resolve(spec: &PrepareSpec, scratch: &Path) -> Result<PathBuf> {
    match &spec.source {
        Source::Path(p) if is_archive(p) => {
            let dest = scratch.join("source");
            extract(p, &dest)?;
            Ok(dest)
        }
        Source::Path(p) if p.exists() => Ok(p.clone()),
        Source::Path(p) => Err(Error::io(p, std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"))),
        Source::System => spec.dataset.system_location().filter(|p| p.is_dir()).ok_or_else(|| Error::Invalid(format!("{} is not installed at a known system location; give --from PATH or --download", spec.dataset))),
        Source::Download { cache, files } => fetch_all(files, cache, spec.progress),
    }
}

/// Reads the dataset at `root` with the reader for `name`.
pub fn read(name: DatasetName, root: &Path) -> Result<RawDataset> {
    use DatasetName::*;
    match name {
        FashionMnist => formats::idx::read(root, true),
        Mnist => formats::idx::read(root, false),
        Cifar10 => formats::cifar::read_cifar10(root),
        Cifar100 => formats::cifar::read_cifar100(root),
        Stl10 => formats::stl10::read(root),
        TinyImageNet => formats::folders::tinyimagenet(root),
        Cub200 => formats::folders::cub200(root),
        Dogs => formats::folders::dogs(root),
        Indoor67 => formats::folders::indoor67(root),
        Stanford40 => formats::folders::stanford40(root),
        ImageFolder => formats::folders::image_folder(root),
    }
}

fn pick(samples: &[Sample], idx: &[usize]) -> Vec<Sample> {
    idx.iter().map(|&i| samples[i].clone()).collect()
}

/// One output split: its name, rows, and how they were chosen (for the provenance).
type Chosen = (String, Vec<Sample>, serde_json::Value);

/// Chooses the output splits: the paper's split files when given (labels renumbered by their
/// class list), else a seeded stratified validation split of `train`; also returns the class
/// names in label order.
fn select(spec: &PrepareSpec, raw: &RawDataset) -> Result<(Vec<Chosen>, Vec<String>)> {
    let train = raw.split("train")?;
    let labels: Vec<i64> = train.samples.iter().map(|s| s.label).collect();
    let mut out: Vec<Chosen> = Vec::new();
    let mut class_names = raw.classes.clone();
    match (&spec.splits_dir, spec.dataset.split_prefix()) {
        (Some(dir), Some(prefix)) => {
            let files = read_paper_splits(dir, prefix)?;
            let test = raw.split("test")?;
            // As the official code: the new label of a sample is the position of its class in
            // the split file's class list (the identity for the published files).
            let order = files[0].class_order(raw.classes.len())?;
            for (f, (name, src)) in
                files
                    .iter()
                    .zip([("train", train), ("val", train), ("test", test)])
            {
                f.check(src.samples.len(), raw.classes.len())?;
                let how =
                    serde_json::json!({"split_file": f.path, "blake3": fsx::blake3_file(&f.path)?});
                let mut picked = pick(&src.samples, &f.indices);
                for s in &mut picked {
                    s.label = order.iter().position(|&c| c == s.label).ok_or_else(|| {
                        Error::bad_file(
                            &f.path,
                            format!(
                                "sample {} has class {}, which the split file does not list",
                                s.index, s.label
                            ),
                        )
                    })? as i64;
                }
                out.push((name.into(), picked, how));
            }
            class_names = order
                .iter()
                .map(|&c| raw.classes[c as usize].clone())
                .collect();
        }
        (Some(_), None) => {
            return Err(Error::Invalid(format!(
            "the paper has no split files for {}; drop --splits to use a seeded validation split",
            spec.dataset
        )))
        }
        (None, _) => {
            let all = Subset::all(labels.len(), "train");
            let has_val = raw.splits.iter().any(|s| s.name == "val");
            let (tr, va) = if has_val || spec.val_fraction <= 0.0 {
                (all, None)
            } else {
                let (t, v) = all.split_off(&labels, spec.val_fraction, spec.seed);
                (t, Some(v))
            };
            let how = serde_json::json!({"val_fraction": spec.val_fraction, "seed": spec.seed});
            out.push((
                "train".into(),
                pick(&train.samples, &tr.indices),
                how.clone(),
            ));
            if let Some(v) = va {
                out.push(("val".into(), pick(&train.samples, &v.indices), how.clone()));
            }
            for s in raw.splits.iter().filter(|s| s.name != "train") {
                out.push((
                    s.name.clone(),
                    s.samples.clone(),
                    serde_json::json!("as distributed"),
                ));
            }
        }
    }
    Ok((out, class_names))
}

/// Prepares a dataset: see the module documentation.
pub fn prepare(spec: &PrepareSpec) -> Result<PreparedDataset> {
    let parent = fsx::parent_dir(&spec.out);
    fsx::create_dir_all(&parent)?;
    let scratch = tempfile::Builder::new()
        .prefix(".prepare-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    let root = resolve(spec, scratch.path())?;
    let raw = read(spec.dataset, &root)?;
    let mut sources: Vec<serde_json::Value> = raw
        .sources
        .iter()
        .map(|p| Ok(serde_json::json!({"path": p.strip_prefix(&root).unwrap_or(p), "blake3": fsx::blake3_file(p)?})))
        .collect::<Result<_>>()?;
    for s in &raw.splits {
        if let Some(b3) = &s.files_blake3 {
            let what = format!("{} image files of `{}`", s.samples.len(), s.name);
            sources.push(serde_json::json!({"path": what, "blake3": b3}));
        }
    }
    let (out, class_names) = select(spec, &raw)?;
    let staging = scratch.path().join("out");
    fsx::create_dir_all(&staging)?;
    // The splits are written in parallel (compression is the costly part).
    let splits = out
        .par_iter()
        .map(|(name, samples, how)| {
            let file = format!("{name}.parquet");
            let prov = serde_json::json!({"dataset": spec.dataset.to_string(), "split": name, "reader_version": READER_VERSION, "sources": sources, "selection": how});
            write_split(&staging.join(&file), samples, &class_names, &prov)?;
            Ok((name.clone(), spec.out.join(&file), samples.len()))
        })
        .collect::<Result<Vec<_>>>()?;
    let summary = serde_json::json!({"dataset": spec.dataset.to_string(), "classes": class_names, "splits": splits.iter().map(|(n, _, r)| serde_json::json!({"name": n, "rows": r})).collect::<Vec<_>>(), "reader_version": READER_VERSION});
    fsx::write_atomic(
        &staging.join("dataset.json"),
        serde_json::to_string_pretty(&summary)
            .expect("json")
            .as_bytes(),
    )?;
    if spec.out.exists() {
        let old = scratch.path().join("old");
        std::fs::rename(&spec.out, &old).map_err(|e| Error::io(&spec.out, e))?;
    }
    std::fs::rename(&staging, &spec.out).map_err(|e| Error::io(&spec.out, e))?;
    Ok(PreparedDataset {
        dir: spec.out.clone(),
        classes: class_names,
        splits,
    })
}
