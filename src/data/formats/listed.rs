//! Shared machinery for datasets of image files named by lists: read every listed file (in
//! parallel), probe or decode it, and build a split; plus small text-list parsing helpers.
use crate::data::sample::{encoded_sample, SplitData};
use crate::error::{Error, Result};
use crate::fsx;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One listed image: its file and class id.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The image file.
    pub path: PathBuf,
    /// Class id, 0-based.
    pub label: i64,
}

/// Reads the listed files into a split, in ImageFolder order (by label, then path): the order
/// in which the official code reads these datasets and which the paper's split files index.
pub fn read_entries(name: &str, entries: &[Entry]) -> Result<SplitData> {
    let mut entries = entries.to_vec();
    entries.sort_by(|a, b| (a.label, &a.path).cmp(&(b.label, &b.path)));
    let read = entries
        .par_iter()
        .enumerate()
        .map(|(i, e)| {
            let bytes = fsx::read(&e.path)?;
            let digest = blake3::hash(&bytes);
            Ok((encoded_sample(&e.path, bytes, i as u64, e.label)?, digest))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut all = blake3::Hasher::new();
    for (e, (_, digest)) in entries.iter().zip(&read) {
        let tail: Vec<_> = e.path.iter().rev().take(2).collect();
        for part in tail.iter().rev() {
            all.update(part.as_encoded_bytes());
            all.update(b"/");
        }
        all.update(digest.as_bytes());
    }
    Ok(SplitData {
        name: name.into(),
        samples: read.into_iter().map(|(s, _)| s).collect(),
        files_blake3: Some(all.finalize().to_hex().to_string()),
    })
}

/// The non-empty lines of a text file with their 1-based line numbers.
pub fn lines(path: &Path) -> Result<Vec<(usize, String)>> {
    Ok(fsx::read_to_string(path)?
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim().to_string()))
        .filter(|(_, l)| !l.is_empty())
        .collect())
}

/// Parses `<id> <value>` lines into a map, with line-numbered errors.
pub fn id_map(path: &Path) -> Result<HashMap<u64, String>> {
    let mut out = HashMap::new();
    for (n, l) in lines(path)? {
        let (id, rest) = l
            .split_once(' ')
            .ok_or_else(|| Error::line(path, n, format!("expected `<id> <value>`, found `{l}`")))?;
        let id: u64 = id
            .parse()
            .map_err(|_| Error::line(path, n, format!("`{id}` is not an image id")))?;
        out.insert(id, rest.trim().to_string());
    }
    Ok(out)
}

/// The class id of `name` among `classes`, or a line-numbered error.
pub fn class_of(classes: &[String], name: &str, path: &Path, line: usize) -> Result<i64> {
    classes
        .iter()
        .position(|c| c == name)
        .map(|i| i as i64)
        .ok_or_else(|| {
            Error::line(
                path,
                line,
                format!(
                    "unknown class `{name}` (not among the {} classes)",
                    classes.len()
                ),
            )
        })
}

/// The sorted names of the sub-folders of `dir`.
pub fn subdirs(dir: &Path) -> Result<Vec<String>> {
    Ok(fsx::read_dir_sorted(dir)?
        .into_iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect())
}

/// The image files (jpg, jpeg, png, any case) directly in `dir`, sorted by path.
pub fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(fsx::read_dir_sorted(dir)?
        .into_iter()
        .filter(|p| p.is_file() && is_image(p))
        .collect())
}

fn is_image(p: &Path) -> bool {
    matches!(
        p.extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .as_deref(),
        Some("jpg" | "jpeg" | "png")
    )
}
