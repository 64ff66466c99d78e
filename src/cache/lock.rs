//! The cache-wide exclusive lock one `l2tww run` holds ([`CacheLock`]): an OS file lock
//! (`flock(2)` through `std::fs::File::lock`) on `ROOT/v1/lock`, so the kernel releases it when
//! the holder dies, even by SIGKILL; a pid file could not tell. Beside it the holder writes
//! `lock.info` (pid, host, command, since) for the message a waiter prints. The lock file itself
//! is never deleted: deleting a lock file lets two processes lock two different inodes.
//! Imports `error`, `fsx`.
use super::owner::{hostname, now_unix, utc_text};
use super::store::Store;
use crate::error::{Error, Result};
use crate::fsx;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

/// Who holds the lock, as written in `lock.info`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// The holder's process id.
    pub pid: u32,
    /// The holder's host.
    pub host: String,
    /// What the holder runs (`l2tww run pipelines/x.yaml`).
    pub who: String,
    /// Since when, Unix seconds.
    pub since: u64,
    /// Since when, UTC text.
    pub since_utc: String,
}

impl LockInfo {
    /// The line a waiting process prints.
    pub fn waiting_message(&self) -> String {
        format!(
            "waiting for the cache lock held by pid {} on {} (`{}`) since {}",
            self.pid, self.host, self.who, self.since_utc
        )
    }
}

/// Holds the cache lock until dropped (or the process ends).
#[derive(Debug)]
pub struct CacheLock {
    _file: File,
    info_path: PathBuf,
    info: LockInfo,
}

impl CacheLock {
    /// What this holder wrote into `lock.info`.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl Drop for CacheLock {
    fn drop(&mut self) {
        // Still locked here, so this cannot delete a later holder's info.
        let _ = std::fs::remove_file(&self.info_path);
    }
}

impl Store {
    fn lock_paths(&self) -> (PathBuf, PathBuf) {
        (self.base().join("lock"), self.base().join("lock.info"))
    }

    fn open_lock_file(&self) -> Result<File> {
        let (path, _) = self.lock_paths();
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))
    }

    /// Takes the cache lock for `who` (the command line, for the message other processes
    /// print). If another process holds it, prints once to stderr who that is, then blocks.
    pub fn lock(&self, who: &str) -> Result<CacheLock> {
        let file = self.open_lock_file()?;
        let (path, _) = self.lock_paths();
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                match self.lock_holder() {
                    Some(info) => eprintln!("{}", info.waiting_message()),
                    None => eprintln!(
                        "waiting for the cache lock {} (its holder wrote no lock.info)",
                        path.display()
                    ),
                }
                file.lock().map_err(|e| Error::io(&path, e))?;
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        self.hold(file, who)
    }

    /// Takes the cache lock if it is free; `None` if another holder has it.
    pub fn try_lock(&self, who: &str) -> Result<Option<CacheLock>> {
        let file = self.open_lock_file()?;
        match file.try_lock() {
            Ok(()) => self.hold(file, who).map(Some),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(Error::io(self.lock_paths().0, e)),
        }
    }

    /// What the current (or last, if it died) holder wrote; `None` if nothing readable.
    pub fn lock_holder(&self) -> Option<LockInfo> {
        serde_json::from_slice(&std::fs::read(self.lock_paths().1).ok()?).ok()
    }

    fn hold(&self, file: File, who: &str) -> Result<CacheLock> {
        let (_, info_path) = self.lock_paths();
        let since = now_unix();
        let info = LockInfo {
            pid: std::process::id(),
            host: hostname(),
            who: who.to_string(),
            since,
            since_utc: utc_text(since),
        };
        let text = serde_json::to_vec_pretty(&info)
            .map_err(|e| Error::bad_file(&info_path, e.to_string()))?;
        fsx::write_atomic(&info_path, &text)?;
        Ok(CacheLock {
            _file: file,
            info_path,
            info,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_try_lock_in_the_same_process_fails_until_the_first_is_dropped() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::open(d.path()).unwrap();
        let first = store.try_lock("one").unwrap().expect("free");
        assert!(store.try_lock("two").unwrap().is_none());
        assert_eq!(store.lock_holder().unwrap().who, "one");
        drop(first);
        assert!(store.lock_holder().is_none());
        assert!(store.try_lock("three").unwrap().is_some());
    }

    #[test]
    fn the_waiting_message_names_pid_host_command_and_time() {
        let info = LockInfo {
            pid: 42,
            host: "node7".into(),
            who: "l2tww run x.yaml".into(),
            since: 0,
            since_utc: "1970-01-01T00:00:00Z".into(),
        };
        assert_eq!(
            info.waiting_message(),
            "waiting for the cache lock held by pid 42 on node7 (`l2tww run x.yaml`) since 1970-01-01T00:00:00Z"
        );
    }
}
