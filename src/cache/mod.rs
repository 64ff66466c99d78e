//! The content-addressed cache of the pipeline. A stage instance becomes a [`Key`] (blake3 of
//! its kind, version, canonical parameters, upstream keys and input-file contents — never a
//! path — built with
//! [`KeyBuilder`], explained by an [`Explanation`]); the [`Store`] answers whether an entry
//! exists ([`Lookup`]), hands out a [`Staging`] folder to compute one and commits it
//! atomically; a [`CacheLock`] serialises whole `l2tww run`s. This module knows nothing of
//! stages or pipelines: it imports only `error` and `fsx`.
//!
//! # Layout
//! ```text
//! ROOT/v1/entries/<key>/manifest.json    files (path, size, blake3), key, time, producer, meta
//! ROOT/v1/entries/<key>/out/…            the stage's outputs
//! ROOT/v1/tmp/stage-<key>-XXXXXX/        staging folders (same filesystem as entries/)
//! ROOT/v1/work/<key>/                    a resumable stage's checkpoints, kept across crashes
//! ROOT/v1/explain/<name>.json            the last explanation per instance identity, for diffs
//! ROOT/file-hashes.json                  content hashes by path, size and mtime (a memo)
//! ROOT/v1/lock, ROOT/v1/lock.info        the cache lock and who holds it
//! ```
//!
//! # What the design relies on from the filesystem
//! - **`rename(2)` of a folder is atomic within one filesystem** and fails with `ENOTEMPTY`/
//!   `EEXIST` when the target is a non-empty folder. A commit writes and fsyncs every file
//!   and `manifest.json` in `tmp/`, then renames the whole folder to `entries/<key>`: readers
//!   see either no entry or a complete one. When two processes commit the same key at once,
//!   exactly one rename wins; the loser sees the target exists, discards its folder and returns
//!   the winner's entry. No two results are ever merged. `tmp/` sits beside `entries/` so the
//!   rename never crosses filesystems (which would make it a non-atomic copy).
//! - **`flock(2)` locks belong to the open file and are released by the kernel when the holder
//!   dies**, SIGKILL included. The cache lock and each staging folder's `.owner` file use it
//!   (through `std::fs::File::lock`, which is `flock` on Unix; we need neither `fd-lock`,
//!   whose guard borrows the lock and so cannot live in a plain struct, nor the unmaintained
//!   `fs2`: the standard library has the same call since Rust 1.89). So `sweep_tmp` can tell a
//!   dead owner's leftovers from a live one's folder by a `try_lock`, with no pid-reuse or
//!   cross-host confusion. Rust opens files close-on-exec, so child processes do not inherit
//!   (and keep alive) the lock.
//! - A damaged entry (a missing or resized file, a bad hash with [`Verify::Full`], an
//!   unreadable manifest) is [`Lookup::Corrupt`], never an error; the caller evicts and
//!   recomputes. Removal renames into `tmp/` first, so nobody sees a half-deleted entry.
//!
//! # NFS and several nodes (Slurm)
//! On NFS, `rename` stays atomic on the server, and the loser of a concurrent commit gets
//! `ENOTEMPTY`/`EEXIST` as locally, so "one result kept, nothing corrupt" holds across nodes.
//! Two caveats: attribute caching can make a client see an entry folder a little after it was
//! renamed (at worst a node recomputes a key another just committed, and its commit then
//! keeps the other's), and a retried rename RPC after a lost reply can report a spurious
//! error, which surfaces as an error, not as corruption. Linux NFS clients implement `flock`
//! with NFS byte-range locks (NLM for v3, built into v4), which are visible to all clients;
//! a lock held by a node that crashes is freed only when its lease expires (about 90 s on
//! v4) or, with v3, when `statd` notices the reboot. Filesystems mounted with `nolock` or
//! `local_lock=all` make the locks node-local: then the cache lock does not exclude other
//! nodes and `sweep_tmp` may delete a staging folder another node is writing (its commit then
//! fails with an error; it never corrupts an entry). `fsync` on NFS flushes to the server
//! (close-to-open consistency), so a committed entry is complete for any client that opens it
//! afterwards.

mod builder;
mod canon;
mod explain;
mod files;
mod key;
mod lock;
mod manifest;
mod owner;
mod staging;
mod store;

pub use builder::KeyBuilder;
pub use explain::{Change, Explanation, FileHash};
pub use files::{hash_path, FileHashes};
pub use key::{Key, KEY_SCHEME};
pub use lock::{CacheLock, LockInfo};
pub use manifest::{FileRecord, Manifest, Verify, MANIFEST_FORMAT};
pub use owner::{utc_text, Producer};
pub use staging::Staging;
pub use store::{Entry, EntrySummary, Lookup, Store, LAYOUT};
