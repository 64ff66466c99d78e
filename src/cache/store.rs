//! The content-addressed [`Store`]: opening its folders, looking entries up (a damaged entry
//! is [`Lookup::Corrupt`], never an error), removing them, listing them for `gc`, per-key work
//! folders and the last explanation per stage name. Staging and committing live in
//! `staging.rs`, the lock in `lock.rs`. Imports `error`, `fsx`.
use super::explain::Explanation;
use super::key::Key;
use super::manifest::{check, Manifest, Verify};
use crate::error::{Error, Result};
use crate::fsx;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The layout version, the name of the folder under the cache root.
pub const LAYOUT: &str = "v1";

/// A cache on disk: `ROOT/v1/{entries/<key>/{manifest.json,out/},tmp/,work/<key>/,explain/}`.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
    base: PathBuf,
}

/// A committed entry.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Its key.
    pub key: Key,
    /// Its folder, `ROOT/v1/entries/<key>`.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

impl Entry {
    /// The folder holding the stage's outputs.
    pub fn out_dir(&self) -> PathBuf {
        self.dir.join("out")
    }

    /// What the committer attached.
    pub fn meta(&self) -> &Value {
        &self.manifest.meta
    }

    /// The committed entry whose output folder is `out` (an input's `dir` as a job sees it),
    /// with its manifest read; None when `out` is not inside an entry or its manifest is
    /// unreadable.
    pub fn owning(out: &Path) -> Option<Entry> {
        let dir = out.parent()?.to_path_buf();
        let manifest = read_manifest(&dir).ok()?;
        Some(Entry {
            key: manifest.key,
            dir,
            manifest,
        })
    }
}

/// The answer of [`Store::lookup`].
// One value per lookup: boxing the entry would only make matching clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Lookup {
    /// A complete entry whose files match its manifest.
    Hit(Entry),
    /// No entry for the key.
    Miss,
    /// An entry that is damaged (reason given): recompute it, after [`Store::evict`].
    Corrupt(String),
}

/// One entry as listed by [`Store::entries`].
#[derive(Clone, Debug)]
pub struct EntrySummary {
    /// Its key.
    pub key: Key,
    /// Bytes of all files in its folder.
    pub bytes: u64,
    /// Commit time (Unix seconds), `None` when the manifest is unreadable.
    pub created: Option<u64>,
    /// What the committer attached, `Null` when the manifest is unreadable.
    pub meta: Value,
}

impl Store {
    /// Whether a cache of this layout is under `root` (nothing is created).
    pub fn exists(root: &Path) -> bool {
        root.join(LAYOUT).is_dir()
    }

    /// The cache under `root` for looking only: nothing is created, and where nothing is there
    /// every lookup misses.
    pub fn view(root: &Path) -> Store {
        Store {
            root: root.to_path_buf(),
            base: root.join(LAYOUT),
        }
    }

    /// Opens (creating as needed) the cache under `root`.
    pub fn open(root: &Path) -> Result<Store> {
        let base = root.join(LAYOUT);
        let store = Store {
            root: root.to_path_buf(),
            base,
        };
        for dir in [
            store.entries_dir(),
            store.tmp_dir(),
            store.work_root(),
            store.explain_dir(),
        ] {
            fsx::create_dir_all(&dir)?;
        }
        Ok(store)
    }

    /// The root given to [`Store::open`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `ROOT/v1`.
    pub fn base(&self) -> &Path {
        &self.base
    }

    pub(super) fn entries_dir(&self) -> PathBuf {
        self.base.join("entries")
    }

    pub(super) fn tmp_dir(&self) -> PathBuf {
        self.base.join("tmp")
    }

    fn work_root(&self) -> PathBuf {
        self.base.join("work")
    }

    fn explain_dir(&self) -> PathBuf {
        self.base.join("explain")
    }

    /// The folder an entry for `key` has (whether or not it exists).
    pub fn entry_dir(&self, key: &Key) -> PathBuf {
        self.entries_dir().join(key.to_string())
    }

    /// Looks `key` up, checking its files against its manifest as thoroughly as `verify` says.
    /// Errors only when the entries folder itself cannot be read.
    pub fn lookup(&self, key: &Key, verify: Verify) -> Result<Lookup> {
        let dir = self.entry_dir(key);
        match std::fs::symlink_metadata(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::Miss),
            Err(e) => return Err(Error::io(&dir, e)),
            Ok(m) if !m.is_dir() => return Ok(Lookup::Corrupt("not a folder".into())),
            Ok(_) => {}
        }
        let manifest = match read_manifest(&dir) {
            Ok(m) => m,
            Err(reason) => return Ok(Lookup::Corrupt(reason)),
        };
        if manifest.key != *key {
            return Ok(Lookup::Corrupt(format!(
                "manifest is for key {}",
                manifest.key
            )));
        }
        Ok(match check(&dir.join("out"), &manifest, verify) {
            Some(reason) => Lookup::Corrupt(reason),
            None => Lookup::Hit(Entry {
                key: *key,
                dir,
                manifest,
            }),
        })
    }

    /// Removes a (corrupt) entry: the same as [`Store::remove`].
    pub fn evict(&self, key: &Key) -> Result<()> {
        self.remove(key).map(|_| ())
    }

    /// Removes the entry for `key`, if any: first renamed into `tmp/` (so no reader sees it
    /// half-deleted), then deleted. Returns whether there was one.
    pub fn remove(&self, key: &Key) -> Result<bool> {
        let dir = self.entry_dir(key);
        let doomed = self.tmp_dir().join(unique_name("evict", key));
        match std::fs::rename(&dir, &doomed) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Error::io(&dir, e)),
        }
        remove_tree(&doomed).map_err(|e| Error::io(&doomed, e))?;
        Ok(true)
    }

    /// Every entry, sorted by key; folders whose names are not keys are skipped.
    pub fn entries(&self) -> Result<Vec<EntrySummary>> {
        let mut out = Vec::new();
        for dir in fsx::read_dir_sorted(&self.entries_dir())? {
            let Some(key) = dir
                .file_name()
                .and_then(|n| n.to_str()?.parse::<Key>().ok())
            else {
                continue;
            };
            let manifest = read_manifest(&dir).ok();
            out.push(EntrySummary {
                key,
                bytes: tree_bytes(&dir),
                created: manifest.as_ref().map(|m| m.created),
                meta: manifest.map(|m| m.meta).unwrap_or(Value::Null),
            });
        }
        Ok(out)
    }

    /// The persistent work folder of `key` (created on demand), where a resumable stage keeps
    /// its checkpoint across crashes until it commits.
    pub fn work_dir(&self, key: &Key) -> Result<PathBuf> {
        let dir = self.work_root().join(key.to_string());
        fsx::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// Deletes the work folder of `key` (after a successful commit); no error if absent.
    pub fn clear_work(&self, key: &Key) -> Result<()> {
        let dir = self.work_root().join(key.to_string());
        remove_tree(&dir).map_err(|e| Error::io(&dir, e))
    }

    /// The keys that have a work folder, sorted (for `gc`).
    pub fn work_keys(&self) -> Result<Vec<Key>> {
        Ok(fsx::read_dir_sorted(&self.work_root())?
            .iter()
            .filter_map(|d| d.file_name()?.to_str()?.parse().ok())
            .collect())
    }

    /// Keeps `explanation` as the last one of stage `name` (any text; made a safe file name).
    pub fn remember(&self, name: &str, explanation: &Explanation) -> Result<()> {
        let path = self.explain_dir().join(explain_file_name(name));
        let text = serde_json::to_vec_pretty(explanation)
            .map_err(|e| Error::bad_file(&path, e.to_string()))?;
        fsx::write_atomic(&path, &text)
    }

    /// The last explanation kept for stage `name`; `None` if there is none or it is unreadable.
    pub fn recall(&self, name: &str) -> Option<Explanation> {
        let path = self.explain_dir().join(explain_file_name(name));
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }
}

/// Reads and parses `dir/manifest.json`; the error is a reason for [`Lookup::Corrupt`].
pub(super) fn read_manifest(dir: &Path) -> std::result::Result<Manifest, String> {
    let bytes =
        std::fs::read(dir.join("manifest.json")).map_err(|e| format!("manifest.json: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("manifest.json: {e}"))
}

/// A name no other process or call uses: `PREFIX-<key>-<pid>-<nanos>-<counter>`.
pub(super) fn unique_name(prefix: &str, key: &Key) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{key}-{}-{nanos}-{n}", std::process::id())
}

/// Deletes a folder tree, tolerating a concurrent deleter (missing pieces are fine).
pub(super) fn remove_tree(path: &Path) -> std::io::Result<()> {
    let mut last = None;
    for _ in 0..3 {
        match std::fs::remove_dir_all(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if std::fs::symlink_metadata(path).is_err() {
                    return Ok(());
                }
                last = Some(e);
            }
            Err(e) => last = Some(e),
        }
    }
    match last {
        Some(e) if std::fs::symlink_metadata(path).is_ok() => Err(e),
        _ => Ok(()),
    }
}

/// Total bytes of the files under `dir` (what can be read of it).
fn tree_bytes(dir: &Path) -> u64 {
    let Ok(items) = std::fs::read_dir(dir) else {
        return 0;
    };
    items
        .flatten()
        .map(|item| match item.file_type() {
            Ok(t) if t.is_dir() => tree_bytes(&item.path()),
            _ => item.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// `name` as a file name: kept when made of `[A-Za-z0-9._-]` (not starting with `.`, at most
/// 100 bytes), else the safe characters plus a hash of the whole name.
fn explain_file_name(name: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if !name.is_empty() && name.len() <= 100 && !name.starts_with('.') && name.chars().all(safe) {
        return format!("{name}.json");
    }
    let cleaned: String = name
        .chars()
        .map(|c| if safe(c) { c } else { '_' })
        .take(100)
        .collect();
    let hash = blake3::hash(name.as_bytes()).to_hex();
    format!("{}-{}.json", cleaned.trim_start_matches('.'), &hash[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_file_names_are_safe_and_distinct() {
        assert_eq!(explain_file_name("train-a.b_1"), "train-a.b_1.json");
        let slash = explain_file_name("a/b");
        let under = explain_file_name("a_b");
        assert_ne!(slash, under);
        for name in ["a/b", "../x", ".hidden", "", "ü", &"x".repeat(300)] {
            let f = explain_file_name(name);
            assert!(
                !f.contains('/') && !f.starts_with('.') && f.len() < 200,
                "{f}"
            );
        }
    }

    #[test]
    fn remove_tree_of_a_missing_folder_is_fine() {
        let d = tempfile::tempdir().unwrap();
        remove_tree(&d.path().join("none")).unwrap();
    }
}
