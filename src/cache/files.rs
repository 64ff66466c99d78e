//! Content hashes of the files and folders a stage reads (datasets, checkpoints, statistics): a
//! file's blake3; a folder's blake3 over its sorted relative paths and their files' hashes. Only
//! contents identify a file: its path never enters a key, so a project moved, renamed or cloned
//! elsewhere finds its entries fresh. [`FileHashes`] remembers hashes by absolute path, size and
//! modification time in `ROOT/file-hashes.json`, so an unchanged multi-gigabyte dataset is not
//! read again on every `l2tww run` or `status` (after a move it is read once more). Imports
//! `error`, `fsx`.

use crate::error::{Error, Result};
use crate::fsx;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Domain prefix of a folder's content hash.
const DIR_DOMAIN: &str = "l2tww folder v1\n";
/// Folders nested deeper than this (a symbolic-link loop) are an error.
const MAX_DEPTH: usize = 64;

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

/// The blake3 (hex) of a file's content, or of a folder's sorted relative paths and contents,
/// without a memo. Symbolic links are followed.
pub fn hash_path(path: &Path) -> Result<String> {
    FileHashes::in_memory().hash(path)
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
        if !meta.is_dir() {
            return self.hash_file(path);
        }
        let mut listing = Vec::new();
        self.walk(path, "", 0, &mut listing)?;
        listing.sort();
        let mut hasher = blake3::Hasher::new();
        hasher.update(DIR_DOMAIN.as_bytes());
        for (rel, hash) in &listing {
            hasher.update(rel.as_bytes());
            hasher.update(b"\0");
            hasher.update(hash.as_bytes());
            hasher.update(b"\n");
        }
        Ok(hasher.finalize().to_hex().to_string())
    }

    fn walk(
        &self,
        dir: &Path,
        prefix: &str,
        depth: usize,
        out: &mut Vec<(String, String)>,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::bad_file(
                dir,
                "folders nested too deep (a symbolic-link loop?)",
            ));
        }
        for path in fsx::read_dir_sorted(dir)? {
            let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
                Error::bad_file(&path, "a file name that is not UTF-8 cannot be hashed")
            })?;
            let rel = format!("{prefix}{name}");
            let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
            if meta.is_dir() {
                self.walk(&path, &format!("{rel}/"), depth + 1, out)?;
            } else {
                out.push((rel, self.hash_file(&path)?));
            }
        }
        Ok(())
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

    #[test]
    fn the_memo_and_a_fresh_hash_agree_and_a_moved_folder_hashes_the_same() {
        let a = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(a.path().join("d/sub")).unwrap();
        std::fs::write(a.path().join("d/sub/x"), b"x").unwrap();
        let memo = FileHashes::in_memory();
        let before = memo.hash(&a.path().join("d")).unwrap();
        assert_eq!(before, hash_path(&a.path().join("d")).unwrap());
        let b = tempfile::tempdir().unwrap();
        std::fs::rename(a.path().join("d"), b.path().join("e")).unwrap();
        assert_eq!(before, memo.hash(&b.path().join("e")).unwrap());
    }

    #[test]
    fn a_folder_hash_depends_on_names_and_contents_but_not_on_the_folder_path() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for d in [a.path(), b.path()] {
            std::fs::create_dir_all(d.join("sub")).unwrap();
            std::fs::write(d.join("sub/x.bin"), b"x").unwrap();
            std::fs::write(d.join("y.txt"), b"y").unwrap();
        }
        assert_eq!(hash_path(a.path()).unwrap(), hash_path(b.path()).unwrap());
        std::fs::rename(b.path().join("y.txt"), b.path().join("z.txt")).unwrap();
        assert_ne!(hash_path(a.path()).unwrap(), hash_path(b.path()).unwrap());
    }

    #[test]
    fn hashing_a_missing_path_is_an_error_naming_it() {
        let err = hash_path(Path::new("/nonexistent/l2tww-input")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/l2tww-input"));
    }
}
