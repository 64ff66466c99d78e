//! The paper's train/val/test split files: JSON `{"classes": [...], "indices": [...]}`, indices
//! into the dataset's standard order (CIFAR and STL-10 file order; CUB and Dogs the ImageFolder
//! order of the official train/test folders). Read from a folder the user gives
//! (`<prefix>-train.json`, `<prefix>-val.json`, `<prefix>-test.json`).
use crate::error::{Error, Result};
use crate::fsx;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One split file.
#[derive(Debug, Clone, Deserialize)]
pub struct SplitFile {
    /// The file it came from.
    #[serde(skip)]
    pub path: PathBuf,
    /// Class ids covered.
    pub classes: Vec<serde_json::Value>,
    /// Indices into the source split.
    pub indices: Vec<usize>,
}

impl SplitFile {
    /// Reads `path`; malformed JSON is an error with its line.
    pub fn read(path: &Path) -> Result<SplitFile> {
        let text = fsx::read_to_string(path)?;
        let mut s: SplitFile = serde_json::from_str(&text).map_err(|e| {
            Error::line(
                path,
                e.line(),
                format!(
                    "not a split file ({e}); expected {{\"classes\": [...], \"indices\": [...]}}"
                ),
            )
        })?;
        s.path = path.to_path_buf();
        Ok(s)
    }

    /// The listed classes as class ids (each below `classes`, no repeats).
    pub fn class_order(&self, classes: usize) -> Result<Vec<i64>> {
        let mut out = Vec::with_capacity(self.classes.len());
        for (k, v) in self.classes.iter().enumerate() {
            let id = v
                .as_i64()
                .filter(|&c| c >= 0 && (c as usize) < classes && !out.contains(&c));
            out.push(id.ok_or_else(|| {
                Error::bad_file(
                    &self.path,
                    format!("class entry {k} (`{v}`) is not a distinct class id below {classes}"),
                )
            })?);
        }
        Ok(out)
    }

    /// Checks every index is below `len` (the source split's size), that none repeats, and that
    /// at most `classes` classes are listed.
    pub fn check(&self, len: usize, classes: usize) -> Result<()> {
        if let Some((k, &i)) = self.indices.iter().enumerate().find(|(_, &i)| i >= len) {
            return Err(Error::bad_file(&self.path, format!("index {i} (entry {k}) is out of range: the source split has {len} rows; is this the split file of another dataset?")));
        }
        if self.classes.len() > classes {
            return Err(Error::bad_file(
                &self.path,
                format!(
                    "{} classes listed, the dataset has only {classes}",
                    self.classes.len()
                ),
            ));
        }
        let mut seen = vec![false; len];
        for &i in &self.indices {
            if std::mem::replace(&mut seen[i], true) {
                return Err(Error::bad_file(
                    &self.path,
                    format!("index {i} appears twice"),
                ));
            }
        }
        Ok(())
    }
}

/// The three split files for `prefix` in `dir`.
pub fn read_paper_splits(dir: &Path, prefix: &str) -> Result<[SplitFile; 3]> {
    let f = |s: &str| SplitFile::read(&dir.join(format!("{prefix}-{s}.json")));
    Ok([f("train")?, f("val")?, f("test")?])
}
