//! The cache [`Key`] (a blake3 of canonical bytes, 64 hex digits) and the [`KeyBuilder`] that
//! makes one from a stage's kind, version, parameters, input keys and input files, keeping an
//! [`Explanation`] of what went in. Keys never depend on `std::hash`, field order, YAML
//! formatting or file paths, only on values and file contents. Imports `error`, `fsx`.
use super::canon;
use super::explain::{Explanation, FileHash};
use super::files::hash_path;
use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// The key scheme: version 2 keys files by content only (version 1 also hashed a pipeline's
/// absolute paths) and stage parameters without paths. Part of every key and explanation.
pub const KEY_SCHEME: u32 = 2;
/// Domain prefix of the hashed key document; changing the scheme means changing this.
const KEY_DOMAIN: &str = "l2tww cache key v2\n";

/// A content address: the blake3 of a stage's canonical description, shown as 64 lowercase hex
/// digits (also the name of its entry folder).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key([u8; 32]);

impl Key {
    /// The key whose bytes are the blake3 of `bytes` (no domain prefix).
    pub fn of_bytes(bytes: &[u8]) -> Key {
        Key(*blake3::hash(bytes).as_bytes())
    }

    /// The first 12 hex digits, for messages.
    pub fn short(&self) -> String {
        self.to_string()[..12].to_string()
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(blake3::Hash::from_bytes(self.0).to_hex().as_str())
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({self})")
    }
}

impl FromStr for Key {
    type Err = Error;

    /// Parses exactly 64 lowercase hex digits.
    fn from_str(s: &str) -> Result<Key> {
        let ok = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let hash = ok.then(|| blake3::Hash::from_hex(s).ok()).flatten();
        hash.map(|h| Key(*h.as_bytes())).ok_or_else(|| {
            Error::Invalid(format!(
                "`{s}` is not a cache key (64 lowercase hex digits)"
            ))
        })
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Key, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

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

/// The key an explanation describes (its `key` field is not read).
pub fn key_of(e: &Explanation) -> Key {
    let files: BTreeMap<&String, &String> = e.files.iter().map(|(n, f)| (n, &f.hash)).collect();
    let doc = serde_json::json!({
        "kind": e.kind,
        "version": e.version,
        "params": e.params,
        "inputs": e.inputs,
        "files": files,
    });
    let mut bytes = KEY_DOMAIN.as_bytes().to_vec();
    bytes.extend_from_slice(canon::to_string(&doc).as_bytes());
    Key::of_bytes(&bytes)
}

#[cfg(test)]
mod tests {
    use super::super::files::hash_path;
    use super::*;

    #[test]
    fn a_key_round_trips_through_its_text_and_rejects_anything_else() {
        let k = Key::of_bytes(b"x");
        assert_eq!(k.to_string().parse::<Key>().unwrap(), k);
        assert_eq!(k.short().len(), 12);
        for bad in ["", "abc", &k.to_string().to_uppercase(), &format!("{k}0")] {
            assert!(bad.parse::<Key>().is_err(), "{bad}");
        }
        let zs = "z".repeat(64);
        assert!(zs.parse::<Key>().is_err());
    }

    #[test]
    fn a_key_serialises_as_its_hex_text() {
        let k = Key::of_bytes(b"y");
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(json, format!("\"{k}\""));
        assert_eq!(serde_json::from_str::<Key>(&json).unwrap(), k);
        assert!(serde_json::from_str::<Key>("\"nothex\"").is_err());
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
