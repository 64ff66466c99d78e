//! An entry's `manifest.json`: its key, when and by whom it was made, every file under `out/`
//! (relative path, size, blake3) and the caller's `meta`; listing a staged `out/` into one, and
//! checking an entry's files against it ([`Verify`]). Imports `error`, `fsx`.
use super::key::Key;
use super::owner::Producer;
use crate::error::{Error, Result};
use crate::fsx;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Component, Path};

/// The manifest format written by this code.
pub const MANIFEST_FORMAT: u32 = 1;

/// How thoroughly [`Store::lookup`](super::Store::lookup) checks an entry's files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verify {
    /// Every listed file exists with its recorded size.
    Fast,
    /// As `Fast`, plus every file's blake3 matches and `out/` holds no unlisted file.
    Full,
}

/// One file of an entry's `out/` folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Path relative to `out/`, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// blake3 of the content, hex.
    pub blake3: String,
}

/// The contents of `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`] when written.
    pub format: u32,
    /// The entry's key (equal to its folder name).
    pub key: Key,
    /// Commit time, Unix seconds.
    pub created: u64,
    /// Commit time, UTC text.
    pub created_utc: String,
    /// The process that committed.
    pub producer: Producer,
    /// Every file under `out/`, sorted by path.
    pub files: Vec<FileRecord>,
    /// What the caller attached (parameters, timings, metrics, versions).
    pub meta: serde_json::Value,
}

impl Manifest {
    /// Total size of the listed files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Lists every regular file under `out`, hashing each and, with `sync`, flushing it to disk.
/// Symbolic links and non-UTF-8 names are errors: an entry must be self-contained.
pub fn list_tree(out: &Path, sync: bool) -> Result<Vec<FileRecord>> {
    let mut files = Vec::new();
    walk(out, "", sync, &mut files)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn walk(dir: &Path, prefix: &str, sync: bool, out: &mut Vec<FileRecord>) -> Result<()> {
    for path in fsx::read_dir_sorted(dir)? {
        let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
            Error::bad_file(
                &path,
                "a cache entry cannot hold a file name that is not UTF-8",
            )
        })?;
        let rel = format!("{prefix}{name}");
        let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
        if meta.is_dir() {
            walk(&path, &format!("{rel}/"), sync, out)?;
        } else if meta.is_file() {
            let (size, blake3) = hash_file(&path, sync)?;
            out.push(FileRecord {
                path: rel,
                size,
                blake3,
            });
        } else {
            return Err(Error::bad_file(
                &path,
                "a cache entry can hold only regular files and folders (no links)",
            ));
        }
    }
    Ok(())
}

/// Size and blake3 of the file at `path`, flushed to disk first with `sync`.
fn hash_file(path: &Path, sync: bool) -> Result<(u64, String)> {
    let mut file = fsx::open(path)?;
    if sync {
        file.sync_all().map_err(|e| Error::io(path, e))?;
    }
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((size, hasher.finalize().to_hex().to_string()))
}

/// Why the files under `out` do not match `manifest`, or `None` when they do.
pub fn check(out: &Path, manifest: &Manifest, verify: Verify) -> Option<String> {
    for rec in &manifest.files {
        if !is_plain_relative(&rec.path) {
            return Some(format!("manifest lists a bad path `{}`", rec.path));
        }
        let path = out.join(&rec.path);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => m,
            Ok(_) => return Some(format!("out/{} is not a regular file", rec.path)),
            Err(e) => return Some(format!("out/{}: {e}", rec.path)),
        };
        if meta.len() != rec.size {
            return Some(format!(
                "out/{} has {} bytes, the manifest says {}",
                rec.path,
                meta.len(),
                rec.size
            ));
        }
        if verify == Verify::Full {
            match hash_file(&path, false) {
                Ok((_, hash)) if hash == rec.blake3 => {}
                Ok(_) => return Some(format!("out/{} content differs (blake3)", rec.path)),
                Err(e) => return Some(e.to_string()),
            }
        }
    }
    if verify == Verify::Full {
        let listed = match list_tree(out, false) {
            Ok(files) => files,
            Err(e) => return Some(e.to_string()),
        };
        if let Some(extra) = listed
            .iter()
            .find(|f| manifest.files.iter().all(|m| m.path != f.path))
        {
            return Some(format!("out/{} is not in the manifest", extra.path));
        }
    }
    None
}

/// Whether `p` is a relative path of normal components only (no `..`, no root).
fn is_plain_relative(p: &str) -> bool {
    !p.is_empty()
        && Path::new(p)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_sorts_by_relative_path_and_records_sizes_and_hashes() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("b/c")).unwrap();
        std::fs::write(d.path().join("b/c/x"), b"xyz").unwrap();
        std::fs::write(d.path().join("a"), b"").unwrap();
        let files = list_tree(d.path(), true).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a", "b/c/x"]);
        assert_eq!(files[1].size, 3);
        assert_eq!(files[1].blake3, blake3::hash(b"xyz").to_hex().to_string());
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_in_out_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/hostname", d.path().join("l")).unwrap();
        let err = list_tree(d.path(), false).unwrap_err();
        assert!(err.to_string().contains("no links"), "{err}");
    }

    #[test]
    fn paths_that_climb_out_are_not_plain() {
        assert!(is_plain_relative("a/b.txt"));
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "./a"] {
            assert!(!is_plain_relative(bad), "{bad}");
        }
    }
}
