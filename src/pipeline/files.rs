//! Content hashes of the external files a stage reads (datasets, checkpoints): blake3 of a file;
//! for a folder, blake3 over its files' relative paths and hashes in sorted order. Hashes are
//! remembered by path, size and modification time in `cache/file-hashes.json`, so that an
//! unchanged multi-gigabyte dataset is not read again on every `l2tww run` or `status`.

use crate::error::{Error, Result};
use crate::fsx;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Seen {
    len: u64,
    mtime_ns: i128,
    hash: String,
}

/// A memo of file hashes, saved in the cache folder.
#[derive(Debug, Default)]
pub struct FileHashes {
    path: Option<PathBuf>,
    seen: Mutex<BTreeMap<PathBuf, Seen>>,
}

fn stamp(path: &Path) -> Result<(u64, i128)> {
    let m = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let mtime = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    Ok((m.len(), mtime))
}

impl FileHashes {
    /// The memo kept in `cache_root/file-hashes.json` (empty when absent or unreadable).
    pub fn open(cache_root: &Path) -> FileHashes {
        let path = cache_root.join("file-hashes.json");
        let seen = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        FileHashes {
            path: Some(path),
            seen: Mutex::new(seen),
        }
    }

    /// A memo that is not saved.
    pub fn in_memory() -> FileHashes {
        FileHashes::default()
    }

    /// The content hash of a file or folder.
    pub fn hash(&self, path: &Path) -> Result<String> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            let mut h = blake3::Hasher::new();
            for f in walk(path)? {
                let rel = f
                    .strip_prefix(path)
                    .unwrap_or(&f)
                    .to_string_lossy()
                    .replace('\\', "/");
                h.update(rel.as_bytes());
                h.update(&[0]);
                h.update(self.hash_file(&f)?.as_bytes());
                h.update(&[0]);
            }
            return Ok(h.finalize().to_hex().to_string());
        }
        self.hash_file(path)
    }

    fn hash_file(&self, path: &Path) -> Result<String> {
        let (len, mtime_ns) = stamp(path)?;
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(s) = self.seen.lock().expect("not poisoned").get(&abs) {
            if s.len == len && s.mtime_ns == mtime_ns {
                return Ok(s.hash.clone());
            }
        }
        let hash = fsx::blake3_file(path)?;
        self.seen.lock().expect("not poisoned").insert(
            abs,
            Seen {
                len,
                mtime_ns,
                hash: hash.clone(),
            },
        );
        Ok(hash)
    }

    /// Saves the memo (best effort: a memo that cannot be saved only costs time).
    pub fn save(&self) {
        if let Some(p) = &self.path {
            let seen = self.seen.lock().expect("not poisoned");
            if let Ok(bytes) = serde_json::to_vec(&*seen) {
                let _ = fsx::write_atomic(p, &bytes);
            }
        }
    }
}

/// Every file under `dir`, sorted, following no symbolic links to folders.
fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in fsx::read_dir_sorted(dir)? {
        let m = std::fs::metadata(&p).map_err(|e| Error::io(&p, e))?;
        if m.is_dir() {
            out.extend(walk(&p)?);
        } else {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_hash_changes_with_a_file_and_the_memo_notices_edits() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("a")).unwrap();
        std::fs::write(d.path().join("a/x"), b"1").unwrap();
        let h = FileHashes::in_memory();
        let first = h.hash(d.path()).unwrap();
        assert_eq!(first, h.hash(d.path()).unwrap());
        std::fs::write(d.path().join("a/x"), b"22").unwrap();
        assert_ne!(first, h.hash(d.path()).unwrap());
    }
}
