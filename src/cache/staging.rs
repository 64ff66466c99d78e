//! Writing an entry: a [`Staging`] folder under `tmp/` that only its owner writes, committed by
//! one atomic rename into `entries/<key>`; and [`Store::sweep_tmp`], which deletes what dead
//! owners left. The owner holds an OS lock on `<staging>/.owner` for the staging folder's whole
//! life, so "is its owner alive?" is a `try_lock`, immune to pid reuse and valid across
//! hosts. Imports `error`, `fsx`.
use super::key::Key;
use super::manifest::{list_tree, Manifest, Verify, MANIFEST_FORMAT};
use super::owner::{now_unix, utc_text, Producer};
use super::store::{remove_tree, Entry, Lookup, Store};
use crate::error::{Error, Result};
use crate::fsx;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The lock file inside a staging folder.
const OWNER_FILE: &str = ".owner";
/// A staging folder without an owner file is left alone this long (it may be being created).
const ORPHAN_GRACE: Duration = Duration::from_secs(3600);
/// Commit attempts when a corrupt entry or a concurrent remover is in the way.
const COMMIT_ATTEMPTS: usize = 4;

/// A folder being filled for one key; deleted on drop unless committed.
#[derive(Debug)]
pub struct Staging {
    store: Store,
    key: Key,
    dir: PathBuf,
    /// Locked for as long as the folder is ours; `None` once committed.
    owner: Option<File>,
}

impl Store {
    /// A fresh staging folder for `key` under `tmp/` (same filesystem as `entries/`).
    pub fn stage(&self, key: &Key) -> Result<Staging> {
        let tmp = self.tmp_dir();
        let dir = tempfile::Builder::new()
            .prefix(&format!("stage-{key}-"))
            .tempdir_in(&tmp)
            .map_err(|e| Error::io(&tmp, e))?
            .keep();
        fsx::as_umask_allows(&dir)?;
        let mut staging = Staging {
            store: self.clone(),
            key: *key,
            dir,
            owner: None,
        };
        let owner_path = staging.dir.join(OWNER_FILE);
        let mut owner = File::create(&owner_path).map_err(|e| Error::io(&owner_path, e))?;
        owner.lock().map_err(|e| Error::io(&owner_path, e))?;
        let text = serde_json::to_string(&Producer::this()).unwrap_or_default();
        owner
            .write_all(text.as_bytes())
            .map_err(|e| Error::io(&owner_path, e))?;
        staging.owner = Some(owner);
        let out = staging.out_dir();
        fsx::create_dir_all(&out)?;
        Ok(staging)
    }

    /// Deletes staging and evicted folders in `tmp/` whose owners are gone (killed processes
    /// leave them), returning how many. Safe to call while other processes stage.
    pub fn sweep_tmp(&self) -> Result<usize> {
        let mut removed = 0;
        for dir in fsx::read_dir_sorted(&self.tmp_dir())? {
            if owner_is_gone(&dir) && remove_tree(&dir).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Whether a live process is computing `key` now (a staging folder for it whose owner
    /// still holds its lock).
    pub fn is_being_computed(&self, key: &Key) -> bool {
        let prefix = format!("stage-{key}-");
        fsx::read_dir_sorted(&self.tmp_dir())
            .unwrap_or_default()
            .iter()
            .filter(|d| {
                d.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix))
            })
            .any(|d| !owner_is_gone(d) && d.join(OWNER_FILE).exists())
    }
}

/// Whether nobody owns the `tmp/` item `dir` any more.
fn owner_is_gone(dir: &Path) -> bool {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.starts_with("stage-") {
        // Evicted entries being deleted: a concurrent deletion is harmless.
        return std::fs::symlink_metadata(dir).is_ok();
    }
    match OpenOptions::new().write(true).open(dir.join(OWNER_FILE)) {
        Ok(file) => match file.try_lock() {
            Ok(()) => true,
            Err(TryLockError::WouldBlock) => false,
            Err(TryLockError::Error(_)) => false,
        },
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let age = std::fs::symlink_metadata(dir)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok());
            age.is_some_and(|a| a > ORPHAN_GRACE)
        }
        Err(_) => false,
    }
}

impl Staging {
    /// The key being staged.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The folder the stage writes its outputs into.
    pub fn out_dir(&self) -> PathBuf {
        self.dir.join("out")
    }

    /// Lists and hashes every file under `out/` (flushing each to disk), writes the manifest
    /// with `meta`, and renames the folder to `entries/<key>` in one step. If an entry for the
    /// key appeared meanwhile (another process computed it), that one is kept and returned and
    /// ours is discarded.
    pub fn commit(mut self, meta: serde_json::Value) -> Result<Entry> {
        let files = list_tree(&self.out_dir(), true)?;
        let created = now_unix();
        let manifest = Manifest {
            format: MANIFEST_FORMAT,
            key: self.key,
            created,
            created_utc: utc_text(created),
            producer: Producer::this(),
            files,
            meta,
        };
        let path = self.dir.join("manifest.json");
        let text = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| Error::bad_file(&path, e.to_string()))?;
        write_synced(&path, &text)?;
        sync_dir(&self.dir)?;
        let target = self.store.entry_dir(&self.key);
        for _ in 0..COMMIT_ATTEMPTS {
            match std::fs::rename(&self.dir, &target) {
                Ok(()) => return self.finish(target, manifest),
                Err(e) if target_exists(&e, &target) => {}
                Err(e) => return Err(Error::io(&target, e)),
            }
            match self.store.lookup(&self.key, Verify::Fast)? {
                Lookup::Hit(existing) => return Ok(existing),
                Lookup::Corrupt(_) => self.store.evict(&self.key)?,
                Lookup::Miss => {}
            }
        }
        Err(Error::Invalid(format!(
            "could not commit cache entry {}: {} kept changing",
            self.key,
            target.display()
        )))
    }

    /// After the rename: make it durable, drop the owner file, release the lock.
    fn finish(&mut self, target: PathBuf, manifest: Manifest) -> Result<Entry> {
        sync_dir(&fsx::parent_dir(&target))?;
        let _ = std::fs::remove_file(target.join(OWNER_FILE));
        self.owner = None;
        self.dir = target.clone();
        Ok(Entry {
            key: self.key,
            dir: target,
            manifest,
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.owner.is_some() {
            let _ = remove_tree(&self.dir);
        }
    }
}

/// Whether a failed rename onto `target` failed because `target` exists.
fn target_exists(e: &std::io::Error, target: &Path) -> bool {
    matches!(
        e.kind(),
        ErrorKind::DirectoryNotEmpty | ErrorKind::AlreadyExists
    ) || std::fs::symlink_metadata(target).is_ok()
}

/// Writes `bytes` to a new file at `path` and flushes it to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = File::create(path).map_err(|e| Error::io(path, e))?;
    file.write_all(bytes).map_err(|e| Error::io(path, e))?;
    file.sync_all().map_err(|e| Error::io(path, e))
}

/// Flushes a folder's entries (new names, renames) to disk.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
