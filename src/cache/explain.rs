//! What went into a key: the [`Explanation`] kept beside an entry and per stage name, the
//! [`key_of`] an explanation hashes to, and its [`Explanation::diff`] into [`Change`]s, which
//! `l2tww status` prints ("stale: param epochs 10 → 20"). Imports nothing outside `cache`.
use super::canon;
use super::key::{Key, KEY_DOMAIN};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The content hash of one input file or folder, and where it was read from (shown only: the
/// path does not enter the key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    /// The path as given to [`KeyBuilder::file`](super::KeyBuilder::file).
    pub path: String,
    /// blake3 of the content, hex.
    pub hash: String,
}

/// Everything a key was computed from, in readable form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The key these fields hash to.
    pub key: Key,
    /// The key scheme it was made with ([`KEY_SCHEME`](super::KEY_SCHEME); 1 before the field
    /// existed).
    #[serde(default = "first_scheme")]
    pub scheme: u32,
    /// The stage kind (`train`, `prepare`, …).
    pub kind: String,
    /// The kind's implementation version.
    pub version: u32,
    /// Parameters in canonical form (nulls dropped, integral floats as integers).
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    /// Keys of the upstream entries, by input name.
    #[serde(default)]
    pub inputs: BTreeMap<String, Key>,
    /// Input files and folders, by name.
    #[serde(default)]
    pub files: BTreeMap<String, FileHash>,
}

fn first_scheme() -> u32 {
    1
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

/// One difference between an old and a new [`Explanation`]. Nested parameter objects are
/// compared field by field, named with dots (`optimizer.lr`). Values are canonical JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// The key scheme differs (every key changed with it).
    Scheme {
        /// Before.
        old: u32,
        /// Now.
        new: u32,
    },
    /// The stage kind differs.
    Kind {
        /// Before.
        old: String,
        /// Now.
        new: String,
    },
    /// The kind's implementation version differs.
    Version {
        /// Before.
        old: u32,
        /// Now.
        new: u32,
    },
    /// A parameter has a new value.
    Param {
        /// Dotted name.
        name: String,
        /// Before.
        old: String,
        /// Now.
        new: String,
    },
    /// A parameter that was absent (or null) is now set.
    ParamAdded {
        /// Dotted name.
        name: String,
        /// Now.
        value: String,
    },
    /// A parameter that was set is now absent (or null).
    ParamRemoved {
        /// Dotted name.
        name: String,
        /// Before.
        value: String,
    },
    /// An upstream entry has a new key.
    Input {
        /// Input name.
        name: String,
        /// Before.
        old: Key,
        /// Now.
        new: Key,
    },
    /// A new input.
    InputAdded {
        /// Input name.
        name: String,
    },
    /// An input that is gone.
    InputRemoved {
        /// Input name.
        name: String,
    },
    /// An input file's content differs.
    File {
        /// Input name.
        name: String,
        /// Its path now.
        path: String,
    },
    /// A new input file.
    FileAdded {
        /// Input name.
        name: String,
        /// Its path.
        path: String,
    },
    /// An input file that is gone.
    FileRemoved {
        /// Input name.
        name: String,
        /// Its old path.
        path: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Scheme { old, new } => write!(f, "key scheme {old} → {new}"),
            Change::Kind { old, new } => write!(f, "kind {old} → {new}"),
            Change::Version { old, new } => write!(f, "version {old} → {new}"),
            Change::Param { name, old, new } => write!(f, "param {name} {old} → {new}"),
            Change::ParamAdded { name, value } => write!(f, "param {name} added ({value})"),
            Change::ParamRemoved { name, value } => {
                write!(f, "param {name} removed (was {value})")
            }
            Change::Input { name, old, new } => {
                write!(f, "input {name} {} → {}", old.short(), new.short())
            }
            Change::InputAdded { name } => write!(f, "input {name} added"),
            Change::InputRemoved { name } => write!(f, "input {name} removed"),
            Change::File { name, path } => write!(f, "file {name} changed ({path})"),
            Change::FileAdded { name, path } => write!(f, "file {name} added ({path})"),
            Change::FileRemoved { name, path } => write!(f, "file {name} removed ({path})"),
        }
    }
}

impl Explanation {
    /// The key these fields hash to, recomputed (equal to `key` unless the explanation was
    /// edited or written by another hashing scheme).
    pub fn computed_key(&self) -> Key {
        key_of(self)
    }

    /// What changed from `old` to `self`; empty when both describe the same key.
    pub fn diff(&self, old: &Explanation) -> Vec<Change> {
        let mut out = Vec::new();
        if self.scheme != old.scheme {
            // Every part of a key may read differently in another scheme: one change says it.
            out.push(Change::Scheme {
                old: old.scheme,
                new: self.scheme,
            });
            return out;
        }
        if self.kind != old.kind {
            out.push(Change::Kind {
                old: old.kind.clone(),
                new: self.kind.clone(),
            });
        }
        if self.version != old.version {
            out.push(Change::Version {
                old: old.version,
                new: self.version,
            });
        }
        diff_fields("", &old.params, &self.params, &mut out);
        for name in union(&old.inputs, &self.inputs) {
            match (old.inputs.get(name), self.inputs.get(name)) {
                (Some(o), Some(n)) if o != n => out.push(Change::Input {
                    name: name.clone(),
                    old: *o,
                    new: *n,
                }),
                (None, Some(_)) => out.push(Change::InputAdded { name: name.clone() }),
                (Some(_), None) => out.push(Change::InputRemoved { name: name.clone() }),
                _ => {}
            }
        }
        for name in union(&old.files, &self.files) {
            let name = name.clone();
            match (old.files.get(&name), self.files.get(&name)) {
                (Some(o), Some(n)) if o.hash != n.hash => out.push(Change::File {
                    name,
                    path: n.path.clone(),
                }),
                (None, Some(n)) => out.push(Change::FileAdded {
                    name,
                    path: n.path.clone(),
                }),
                (Some(o), None) => out.push(Change::FileRemoved {
                    name,
                    path: o.path.clone(),
                }),
                _ => {}
            }
        }
        out
    }
}

fn union<'a, V>(a: &'a BTreeMap<String, V>, b: &'a BTreeMap<String, V>) -> BTreeSet<&'a String> {
    a.keys().chain(b.keys()).collect()
}

/// Compares two objects' fields, descending into fields that are objects on both sides.
fn diff_fields<'a, I>(prefix: &str, old: I, new: I, out: &mut Vec<Change>)
where
    I: IntoIterator<Item = (&'a String, &'a Value)>,
{
    let old: BTreeMap<&String, &Value> = old.into_iter().collect();
    let new: BTreeMap<&String, &Value> = new.into_iter().collect();
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).copied().collect();
    for name in names {
        let dotted = format!("{prefix}{name}");
        match (old.get(name), new.get(name)) {
            (Some(Value::Object(o)), Some(Value::Object(n))) => {
                diff_fields(&format!("{dotted}."), o, n, out)
            }
            (Some(o), Some(n)) => {
                let (o, n) = (canon::to_string(o), canon::to_string(n));
                if o != n {
                    out.push(Change::Param {
                        name: dotted,
                        old: o,
                        new: n,
                    });
                }
            }
            (None, Some(n)) => out.push(Change::ParamAdded {
                name: dotted,
                value: canon::to_string(n),
            }),
            (Some(o), None) => out.push(Change::ParamRemoved {
                name: dotted,
                value: canon::to_string(o),
            }),
            (None, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::KeyBuilder;
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_parameters_are_named_with_dots() {
        let (_, old) = KeyBuilder::new("train", 1)
            .param("opt", json!({"lr": 0.1, "momentum": 0.9}))
            .finish();
        let (_, new) = KeyBuilder::new("train", 1)
            .param("opt", json!({"lr": 0.01, "nesterov": true}))
            .finish();
        let text: Vec<String> = new.diff(&old).iter().map(|c| c.to_string()).collect();
        assert_eq!(
            text,
            [
                "param opt.lr 0.1 → 0.01",
                "param opt.momentum removed (was 0.9)",
                "param opt.nesterov added (true)"
            ]
        );
    }

    #[test]
    fn an_explanation_round_trips_through_json_and_recomputes_its_key() {
        let (key, e) = KeyBuilder::new("k", 3)
            .param("a", json!([1, "x"]))
            .input("up", &Key::of_bytes(b"u"))
            .finish();
        let back: Explanation = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.computed_key(), key);
        assert!(back.diff(&e).is_empty());
    }
}
