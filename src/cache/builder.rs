//! The [`KeyBuilder`]: collects a stage's kind, version, parameters, input keys and input
//! files, and turns them into a [`Key`] with the [`Explanation`] of what went in (hashed by
//! [`key_of`]). Imports `error` and its siblings in `cache`.
use super::canon;
use super::explain::{key_of, Explanation, FileHash};
use super::files::hash_path;
use super::key::{Key, KEY_SCHEME};
use crate::error::Result;
use std::collections::BTreeMap;
use std::path::Path;

/// Collects what determines a stage's output and turns it into a [`Key`] and an
/// [`Explanation`]. A later value under the same name replaces an earlier one.
#[derive(Clone, Debug)]
pub struct KeyBuilder {
    kind: String,
    version: u32,
    params: BTreeMap<String, serde_json::Value>,
    inputs: BTreeMap<String, Key>,
    files: BTreeMap<String, FileHash>,
}

impl KeyBuilder {
    /// Starts a key for a stage of `kind` whose implementation is at `kind_version` (bump it
    /// when the stage's code changes what it produces).
    pub fn new(kind: &str, kind_version: u32) -> KeyBuilder {
        KeyBuilder {
            kind: kind.to_string(),
            version: kind_version,
            params: BTreeMap::new(),
            inputs: BTreeMap::new(),
            files: BTreeMap::new(),
        }
    }

    /// Adds parameter `name`, hashed as canonical JSON (see the `canon` rules). A `null`
    /// parameter is skipped, so adding an optional option keeps old keys.
    pub fn param(mut self, name: &str, value: serde_json::Value) -> KeyBuilder {
        match canon::normalize(&value) {
            Some(v) => self.params.insert(name.to_string(), v),
            None => self.params.remove(name),
        };
        self
    }

    /// Adds the key of an upstream entry this stage reads.
    pub fn input(mut self, name: &str, key: &Key) -> KeyBuilder {
        self.inputs.insert(name.to_string(), *key);
        self
    }

    /// Adds the content of the file or folder at `path` (a folder: its sorted relative paths
    /// and file contents, recursively). Only the content enters the key, not the path.
    pub fn file(self, name: &str, path: &Path) -> Result<KeyBuilder> {
        let hash = hash_path(path)?;
        Ok(self.file_hashed(name, path, hash))
    }

    /// Adds a file or folder whose content hash is known (from a
    /// [`FileHashes`](super::FileHashes) memo). Only the hash enters the key; the path is shown.
    pub fn file_hashed(mut self, name: &str, path: &Path, hash: String) -> KeyBuilder {
        let path = path.to_string_lossy().into_owned();
        self.files.insert(name.to_string(), FileHash { path, hash });
        self
    }

    /// The key and the explanation of what went into it.
    pub fn finish(self) -> (Key, Explanation) {
        let mut explanation = Explanation {
            key: Key([0; 32]),
            scheme: KEY_SCHEME,
            kind: self.kind,
            version: self.version,
            params: self.params,
            inputs: self.inputs,
            files: self.files,
        };
        explanation.key = key_of(&explanation);
        (explanation.key, explanation)
    }
}
