//! Pipeline composition: a pipeline file may take the stages and defaults of other files with
//! `include: [common.yaml, …]` (a single name also does), paths relative to the including file.
//! Included files are read first, in order, then the file's own stages are added to theirs; a
//! stage name defined twice is an error naming both places. Every position is marked with the
//! number of the file it is in ([`crate::yaml::Pos::file`]), so that an error inside an included
//! file points at that file's line and column.
//!
//! Defaults: a file sees the defaults of the files it includes (later includes over earlier
//! ones), with its own over them. The defaults of an including file never reach the stages of
//! the files it includes: an included stage means what it means in its own file, so its cache
//! key is the one it has there. A file included twice (by two files that both include it) is
//! read once. Only the top file's `pipeline:`, `description:` and `settings:` count.
//!
//! Also home to [`at`], the error at a position in a file, which [`super::spec`] uses too (and
//! re-exports).

use super::kinds::{Kind, KIND_NAMES};
use super::merge::merge;
use super::names::{did_you_mean, valid_name};
use crate::error::{Error, Result};
use crate::yaml::{self, Node, Pos, Value};
use std::path::{Path, PathBuf};

/// An [`Error::At`].
pub fn at(path: &Path, pos: Pos, msg: impl Into<String>) -> Error {
    Error::At {
        path: path.to_path_buf(),
        line: pos.line,
        col: pos.col,
        msg: msg.into(),
    }
}

/// The keys a pipeline file may have at its top.
pub const TOP_KEYS: &[&str] = &[
    "pipeline",
    "description",
    "include",
    "settings",
    "defaults",
    "stages",
];

/// Defaults by kind: each kind once, each parameter once.
pub type Defaults = Vec<(Kind, Vec<(String, Pos, Node)>)>;

/// A stage as written, before its defaults are merged in.
#[derive(Debug, Clone)]
pub struct RawStage {
    /// Its name.
    pub name: String,
    /// Where the name is.
    pub pos: Pos,
    /// Its mapping as written.
    pub node: Node,
    /// The defaults its file sees.
    pub defaults: Defaults,
}

/// A pipeline file and everything it includes, read.
#[derive(Debug)]
pub struct Documents {
    /// Every file read; a position's `file` indexes it (0: the top file).
    pub files: Vec<PathBuf>,
    /// The top file's document.
    pub root: Node,
    /// Every stage, those of included files first.
    pub stages: Vec<RawStage>,
}

/// Reads the pipeline `text` of `path` and the files it includes.
pub fn read_all(path: &Path, text: &str) -> Result<Documents> {
    let mut r = Reader::default();
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    r.chain.push(canonical.clone());
    let (root, defaults) = r.read(path, text)?;
    r.done.push((canonical, defaults));
    Ok(Documents {
        files: r.files,
        root,
        stages: r.stages,
    })
}

#[derive(Default)]
struct Reader {
    files: Vec<PathBuf>,
    /// Files read (canonical path) and the defaults each sees.
    done: Vec<(PathBuf, Defaults)>,
    /// The files being read, outermost first (to find cycles).
    chain: Vec<PathBuf>,
    stages: Vec<RawStage>,
}

fn entry<'a>(top: &'a [(String, Pos, Node)], key: &str) -> Option<(Pos, &'a Node)> {
    top.iter()
        .find(|(k, _, _)| k == key)
        .map(|(_, p, v)| (*p, v))
}

impl Reader {
    /// Reads one file (its includes first); returns its document and the defaults it sees.
    fn read(&mut self, path: &Path, text: &str) -> Result<(Node, Defaults)> {
        let index = self.files.len();
        self.files.push(path.to_path_buf());
        let root = yaml::parse_file(text, index).map_err(|e| at(path, e.pos, e.msg))?;
        let top = root.as_map().ok_or_else(|| {
            at(
                path,
                root.pos,
                "a pipeline file is a mapping with `stages:`",
            )
        })?;
        for (k, pos, _) in top {
            if !TOP_KEYS.contains(&k.as_str()) {
                return Err(at(
                    path,
                    *pos,
                    format!(
                        "unknown key `{k}`; {}",
                        did_you_mean(k, TOP_KEYS.iter().copied())
                    ),
                ));
            }
        }
        let mut defaults = Defaults::new();
        for (name, pos) in includes(path, entry(top, "include"))? {
            let seen = self.include(path, &name, pos)?;
            defaults = layered(defaults, seen);
        }
        let own = read_defaults(path, entry(top, "defaults"))?;
        defaults = layered(defaults, own);
        let Some((spos, snode)) = entry(top, "stages") else {
            if index == 0 && entry(top, "include").is_none() {
                return Err(at(path, root.pos, "the file has no `stages:` mapping"));
            }
            return Ok((root.clone(), defaults));
        };
        let entries = snode
            .as_map()
            .ok_or_else(|| at(path, spos, "`stages` must map stage names to stages"))?;
        for (name, pos, node) in entries {
            if !valid_name(name) {
                return Err(at(
                    path,
                    *pos,
                    format!("stage name `{name}`: use letters, digits, - and _"),
                ));
            }
            if let Some(first) = self.stages.iter().find(|s| s.name == *name) {
                return Err(at(
                    path,
                    *pos,
                    format!(
                        "stage `{name}` is defined twice: here and at {}:{}:{}",
                        self.files[first.pos.file].display(),
                        first.pos.line,
                        first.pos.col
                    ),
                ));
            }
            self.stages.push(RawStage {
                name: name.clone(),
                pos: *pos,
                node: node.clone(),
                defaults: defaults.clone(),
            });
        }
        if index == 0 && entries.is_empty() && self.stages.is_empty() {
            return Err(at(path, spos, "`stages` is empty"));
        }
        Ok((root.clone(), defaults))
    }

    /// Reads the file `name` that `from` includes at `pos` (once); returns the defaults it sees.
    fn include(&mut self, from: &Path, name: &str, pos: Pos) -> Result<Defaults> {
        let path = match from.parent() {
            Some(dir) => dir.join(name),
            None => PathBuf::from(name),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            at(
                from,
                pos,
                format!("cannot read the included {}: {e}", path.display()),
            )
        })?;
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if let Some(i) = self.chain.iter().position(|c| *c == canonical) {
            let mut names: Vec<String> = self.chain[i..].iter().map(|c| shown_name(c)).collect();
            names.push(shown_name(&canonical));
            return Err(at(
                from,
                pos,
                format!("the files include each other: {}", names.join(" → ")),
            ));
        }
        if let Some((_, d)) = self.done.iter().find(|(c, _)| *c == canonical) {
            return Ok(d.clone());
        }
        self.chain.push(canonical.clone());
        let (_, defaults) = self.read(&path, &text)?;
        self.chain.pop();
        self.done.push((canonical, defaults.clone()));
        Ok(defaults)
    }
}

/// A file's name, for messages.
fn shown_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The file names of `include:` (a name or a list of names), with their positions.
fn includes(path: &Path, node: Option<(Pos, &Node)>) -> Result<Vec<(String, Pos)>> {
    let Some((_, node)) = node else {
        return Ok(Vec::new());
    };
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    items
        .into_iter()
        .map(|n| match n.to_json() {
            serde_json::Value::String(s) if !s.is_empty() => Ok((s, n.pos)),
            _ => Err(at(
                path,
                n.pos,
                "`include` takes a file name or a list of file names (relative to this file)",
            )),
        })
        .collect()
}

/// `over` layered over `base`: a parameter both set is merged by its rule, `over`'s winning.
fn layered(mut base: Defaults, over: Defaults) -> Defaults {
    for (kind, params) in over {
        let Some((_, have)) = base.iter_mut().find(|(k, _)| *k == kind) else {
            base.push((kind, params));
            continue;
        };
        for (name, pos, node) in params {
            match have.iter_mut().find(|(n, _, _)| *n == name) {
                Some(slot) => {
                    let param = kind.param(&name).expect("checked when read");
                    *slot = (name, pos, merge(param, &slot.2, &node));
                }
                None => have.push((name, pos, node)),
            }
        }
    }
    base
}

/// `defaults:` of one file, checked.
fn read_defaults(path: &Path, node: Option<(Pos, &Node)>) -> Result<Defaults> {
    let Some((pos, node)) = node else {
        return Ok(Vec::new());
    };
    let map = node
        .as_map()
        .ok_or_else(|| at(path, pos, "`defaults` maps a kind to parameters"))?;
    let mut out = Vec::new();
    for (k, kpos, params) in map {
        let kind: Kind = k.parse().map_err(|_| {
            at(
                path,
                *kpos,
                format!(
                    "unknown kind `{k}`; {}",
                    did_you_mean(k, KIND_NAMES.iter().copied())
                ),
            )
        })?;
        let params = params.as_map().ok_or_else(|| {
            at(
                path,
                *kpos,
                "defaults of a kind are a mapping of parameters",
            )
        })?;
        check_params(path, kind, params)?;
        out.push((kind, params.to_vec()));
    }
    Ok(out)
}

/// Every parameter name in `params` is one of `kind`'s.
pub fn check_params(path: &Path, kind: Kind, params: &[(String, Pos, Node)]) -> Result<()> {
    for (k, pos, _) in params {
        if kind.param(k).is_none() {
            let names = kind.params().iter().map(|p| p.name);
            return Err(at(
                path,
                *pos,
                format!(
                    "a `{kind}` stage has no parameter `{k}`; {}",
                    did_you_mean(k, names)
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn json_defaults(d: &Defaults) -> serde_json::Value {
        d.iter()
            .map(|(k, ps)| {
                let m: serde_json::Map<_, _> = ps
                    .iter()
                    .map(|(n, _, v)| (n.clone(), v.to_json()))
                    .collect();
                (k.to_string(), serde_json::Value::Object(m))
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    }

    #[test]
    fn a_file_sees_its_includes_defaults_under_its_own_and_they_never_see_its() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "a.yaml",
            "defaults:\n  train: {batch: 8, optim: {lr: 0.1, epochs: 2}}\nstages:\n  s: {kind: train}\n",
        );
        let top = "include: a.yaml\ndefaults:\n  train: {optim: {lr: 0.2}}\nstages:\n  t: {kind: train}\n";
        let docs = read_all(&dir.path().join("top.yaml"), top).unwrap();
        let names: Vec<&str> = docs.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["s", "t"]);
        assert_eq!(
            json_defaults(&docs.stages[0].defaults),
            serde_json::json!({"train": {"batch": 8, "optim": {"lr": 0.1, "epochs": 2}}})
        );
        assert_eq!(
            json_defaults(&docs.stages[1].defaults),
            serde_json::json!({"train": {"batch": 8, "optim": {"lr": 0.2, "epochs": 2}}})
        );
        assert_eq!(docs.stages[0].pos.file, 1);
        assert_eq!(docs.files[1], dir.path().join("a.yaml"));
    }

    #[test]
    fn a_file_included_twice_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "c.yaml",
            "stages:\n  data: {kind: dataset, dataset: mnist}\n",
        );
        write(
            dir.path(),
            "a.yaml",
            "include: [c.yaml]\nstages:\n  a: {kind: subset, data: data}\n",
        );
        write(
            dir.path(),
            "b.yaml",
            "include: [c.yaml]\nstages:\n  b: {kind: subset, data: data}\n",
        );
        let docs = read_all(&dir.path().join("top.yaml"), "include: [a.yaml, b.yaml]\n").unwrap();
        let names: Vec<&str> = docs.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["data", "a", "b"]);
        let e = read_all(&dir.path().join("top.yaml"), "include: [a.yaml, 3]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("top.yaml:1:19: `include` takes a file name"),
            "{e}"
        );
    }
}
