//! Typed deserialisation of a JSON value that names the path of a bad value (`optim.epochs`),
//! also where serde loses it: fields of a `#[serde(flatten)]` struct are deserialised from a
//! buffer, so `serde_path_to_error` reports no path for them. Then the path is found by
//! elimination: the entry whose removal makes the error go away (or become another one than
//! "missing field" for that entry), descending into it. Imports nothing from the crate.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A value that does not deserialise: the path of the bad value (keys and sequence indices,
/// empty when the value as a whole is wrong) and serde's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Keys and indices from the deserialised value down to the bad one.
    pub path: Vec<String>,
    /// What is wrong.
    pub msg: String,
}

impl FieldError {
    /// An error at `path` (dotted in messages).
    pub fn at(path: &[&str], msg: impl Into<String>) -> FieldError {
        FieldError {
            path: path.iter().map(|s| s.to_string()).collect(),
            msg: msg.into(),
        }
    }

    /// The same error nested under `prefix` (`["optim"]` + `lr` → `optim.lr`).
    pub fn within(mut self, prefix: &[&str]) -> FieldError {
        let mut path: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
        path.append(&mut self.path);
        self.path = path;
        self
    }

    /// The message with the path in front (`` `optim.epochs`: … ``), as users read it.
    pub fn shown(&self) -> String {
        if self.path.is_empty() {
            self.msg.clone()
        } else {
            format!("`{}`: {}", self.path.join("."), self.msg)
        }
    }
}

fn attempt<T: DeserializeOwned>(v: &Value) -> Result<T, (Vec<String>, String)> {
    serde_path_to_error::deserialize(v.clone()).map_err(|e| {
        let path = e
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                _ => None,
            })
            .collect();
        (path, e.inner().to_string())
    })
}

/// Deserialises `v` as a `T`; an error names the path of the bad value.
pub fn typed<T: DeserializeOwned>(v: &Value) -> Result<T, FieldError> {
    match attempt::<T>(v) {
        Ok(t) => Ok(t),
        // The path serde reports stops where a flattened struct took over: go on from there.
        Err((path, msg)) => Err(FieldError {
            path: by_elimination::<T>(v, path, &msg),
            msg,
        }),
    }
}

fn child<'a>(v: &'a Value, step: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => m.get(step),
        Value::Array(a) => a.get(step.parse::<usize>().ok()?),
        _ => None,
    }
}

fn without(root: &Value, path: &[String], step: &str) -> Value {
    let mut out = root.clone();
    let mut node = &mut out;
    for p in path {
        node = match node {
            Value::Object(m) => m.get_mut(p).expect("an existing path"),
            Value::Array(a) => &mut a[p.parse::<usize>().expect("an index")],
            _ => unreachable!("paths lead through containers"),
        };
    }
    match node {
        Value::Object(m) => {
            m.remove(step);
        }
        Value::Array(a) => {
            a.remove(step.parse::<usize>().expect("an index"));
        }
        _ => {}
    }
    out
}

/// The path of the entry below `path` that causes `msg`, found by removing entries one at a
/// time.
fn by_elimination<T: DeserializeOwned>(
    root: &Value,
    mut path: Vec<String>,
    msg: &str,
) -> Vec<String> {
    loop {
        let mut here = root;
        for p in &path {
            match child(here, p) {
                Some(c) => here = c,
                None => return path,
            }
        }
        let steps: Vec<String> = match here {
            Value::Object(m) => m.keys().cloned().collect(),
            Value::Array(a) => (0..a.len()).map(|i| i.to_string()).collect(),
            _ => break,
        };
        let culprit =
            steps
                .into_iter()
                .find(|step| match attempt::<T>(&without(root, &path, step)) {
                    Ok(_) => true,
                    Err((_, m)) => m != msg && m != format!("missing field `{step}`"),
                });
        match culprit {
            Some(step) => path.push(step),
            None => break,
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    #[allow(dead_code)]
    struct Inner {
        #[serde(default)]
        epochs: usize,
        #[serde(default)]
        lr: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    #[allow(dead_code)]
    struct Part {
        #[serde(default)]
        per_class: Option<usize>,
        #[serde(default)]
        classes: Option<Vec<i64>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    #[allow(dead_code)]
    struct Outer {
        arch: String,
        #[serde(flatten)]
        part: Part,
        #[serde(default)]
        optim: Option<Inner>,
    }

    #[test]
    fn a_bad_value_inside_a_flattened_struct_is_found_by_its_path() {
        let e = typed::<Outer>(&json!({"arch": "a", "per-class": "x"})).unwrap_err();
        assert_eq!(e.path, ["per-class"]);
        assert!(e.shown().starts_with("`per-class`: invalid type"), "{e:?}");
        let e = typed::<Outer>(&json!({"arch": "a", "optim": {"epochs": "one"}})).unwrap_err();
        assert_eq!(e.path, ["optim", "epochs"]);
        let e = typed::<Outer>(&json!({"arch": "a", "classes": [1, "b"]})).unwrap_err();
        assert_eq!(e.path, ["classes", "1"]);
    }

    #[test]
    fn unknown_and_missing_fields_point_at_the_entry_or_at_the_whole() {
        let e = typed::<Outer>(&json!({"arch": "a", "bogus": 1})).unwrap_err();
        assert_eq!(
            (e.path.as_slice(), e.msg.as_str()),
            (&["bogus".to_string()][..], "unknown field `bogus`")
        );
        let e = typed::<Outer>(&json!({"per-class": 3})).unwrap_err();
        assert!(e.path.is_empty() && e.msg.contains("arch"), "{e:?}");
        assert!(typed::<Outer>(&json!({"arch": "a", "per-class": 3})).is_ok());
    }
}
