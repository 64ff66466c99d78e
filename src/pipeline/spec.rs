//! A pipeline file as written: its name, per-kind defaults and named stages, each with a kind
//! and parameters, every value with its position. Checks what can be checked without looking at
//! other stages: the top-level keys, each stage's kind and parameter names (with the nearest
//! valid name when one is misspelt), the settings. A kind's defaults are merged under each
//! stage's own parameters by the parameters' rules ([`super::merge`]).

use super::kinds::{Kind, KIND_NAMES};
use super::merge::merge;
use super::names::valid_name;
pub use super::names::{did_you_mean, names_in, nearest};
use super::settings::Settings;
use crate::error::{Error, Result};
use crate::fsx;
use crate::yaml::{self, Node, Pos};
use std::path::{Path, PathBuf};

/// One stage as written.
#[derive(Debug, Clone)]
pub struct StageSpec {
    /// Its name (the key under `stages`).
    pub name: String,
    /// Where the name is.
    pub pos: Pos,
    /// Its kind.
    pub kind: Kind,
    /// Its parameters (the kind's defaults merged under its own), with their positions.
    pub params: Vec<(String, Pos, Node)>,
}

/// A pipeline file.
#[derive(Debug, Clone)]
pub struct PipelineSpec {
    /// The file.
    pub path: PathBuf,
    /// The pipeline's name (`pipeline:` or the file stem).
    pub name: String,
    /// The stages in file order.
    pub stages: Vec<StageSpec>,
    /// The parsed document (for positions of nested values).
    pub root: Node,
    /// `settings:` (executor, Slurm resources).
    pub settings: Settings,
}

const TOP_KEYS: &[&str] = &["pipeline", "description", "settings", "defaults", "stages"];

impl PipelineSpec {
    /// An error at `pos` in this file.
    pub fn err(&self, pos: Pos, msg: impl Into<String>) -> Error {
        at(&self.path, pos, msg)
    }

    /// The position of the value at `path` (keys, sequence indices) under stage `stage`.
    pub fn locate(&self, stage: &str, path: &[String]) -> Pos {
        let mut full = vec!["stages".to_string(), stage.to_string()];
        full.extend(path.iter().cloned());
        self.root.locate(&full)
    }

    /// The stage called `name`.
    pub fn stage(&self, name: &str) -> Option<&StageSpec> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// Reads and checks a pipeline file.
    pub fn read(path: &Path) -> Result<PipelineSpec> {
        let text = fsx::read_to_string(path)?;
        Self::parse(path, &text)
    }

    /// Checks a pipeline given as text (`path` names it in errors).
    pub fn parse(path: &Path, text: &str) -> Result<PipelineSpec> {
        let root = yaml::parse(text).map_err(|e| at(path, e.pos, e.msg))?;
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
        let get = |k: &str| top.iter().find(|(n, _, _)| n == k).map(|(_, p, v)| (*p, v));
        let name = match get("pipeline") {
            Some((p, v)) => match v.to_json() {
                serde_json::Value::String(s) if valid_name(&s) => s,
                _ => {
                    return Err(at(
                        path,
                        p,
                        "`pipeline` must be a name (letters, digits, - and _)",
                    ))
                }
            },
            None => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "pipeline".into()),
        };
        let settings = match get("settings") {
            None => Settings::default(),
            Some((_, v)) => yaml::typed(&v.to_json())
                .map_err(|e| at(path, v.locate(&e.path), format!("settings: {}", e.shown())))?,
        };
        let defaults = read_defaults(path, get("defaults"))?;
        let (spos, snode) =
            get("stages").ok_or_else(|| at(path, root.pos, "the file has no `stages:` mapping"))?;
        let entries = snode
            .as_map()
            .ok_or_else(|| at(path, spos, "`stages` must map stage names to stages"))?;
        let mut stages = Vec::new();
        for (name, pos, node) in entries {
            if !valid_name(name) {
                return Err(at(
                    path,
                    *pos,
                    format!("stage name `{name}`: use letters, digits, - and _"),
                ));
            }
            stages.push(read_stage(path, name, *pos, node, &defaults)?);
        }
        if stages.is_empty() {
            return Err(at(path, spos, "`stages` is empty"));
        }
        Ok(PipelineSpec {
            path: path.to_path_buf(),
            name,
            stages,
            root,
            settings,
        })
    }
}

/// An [`Error::At`].
pub fn at(path: &Path, pos: Pos, msg: impl Into<String>) -> Error {
    Error::At {
        path: path.to_path_buf(),
        line: pos.line,
        col: pos.col,
        msg: msg.into(),
    }
}

type Defaults = Vec<(Kind, Vec<(String, Pos, Node)>)>;

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

fn check_params(path: &Path, kind: Kind, params: &[(String, Pos, Node)]) -> Result<()> {
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

fn read_stage(
    path: &Path,
    name: &str,
    pos: Pos,
    node: &Node,
    defaults: &Defaults,
) -> Result<StageSpec> {
    let map = node.as_map().ok_or_else(|| {
        at(
            path,
            pos,
            format!("stage `{name}` must be a mapping with `kind:`"),
        )
    })?;
    let (kpos, kind) = match map.iter().find(|(k, _, _)| k == "kind") {
        Some((_, kpos, v)) => {
            let text = match v.to_json() {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            let kind: Kind = text.parse().map_err(|_| {
                at(
                    path,
                    v.pos,
                    format!(
                        "unknown kind `{text}`; {}",
                        did_you_mean(&text, KIND_NAMES.iter().copied())
                    ),
                )
            })?;
            (*kpos, kind)
        }
        None => {
            return Err(at(
                path,
                pos,
                format!("stage `{name}` has no `kind:` ({})", KIND_NAMES.join(", ")),
            ))
        }
    };
    let _ = kpos;
    let own: Vec<(String, Pos, Node)> = map
        .iter()
        .filter(|(k, _, _)| k != "kind")
        .cloned()
        .collect();
    check_params(path, kind, &own)?;
    let mut params: Vec<(String, Pos, Node)> = Vec::new();
    let defaults: Vec<&(String, Pos, Node)> = defaults
        .iter()
        .filter(|(k, _)| *k == kind)
        .flat_map(|(_, d)| d)
        .collect();
    for entry in &defaults {
        if !own.iter().any(|(n, _, _)| *n == entry.0) {
            params.push((*entry).clone());
        }
    }
    for (name, pos, node) in own {
        let merged = match defaults.iter().find(|(n, _, _)| *n == name) {
            Some((_, _, d)) => merge(kind.param(&name).expect("checked"), d, &node),
            None => node,
        };
        params.push((name, pos, merged));
    }
    Ok(StageSpec {
        name: name.to_string(),
        pos,
        kind,
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PipelineSpec> {
        PipelineSpec::parse(Path::new("p.yaml"), text)
    }

    #[test]
    fn a_misspelt_parameter_names_the_place_and_the_nearest_name() {
        let e = parse("stages:\n  t:\n    kind: train\n    epoch: 3\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.yaml:4:5: a `train` stage has no parameter `epoch`"),
            "{e}"
        );
        let e = parse("stages:\n  t:\n    kind: trian\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.yaml:3:11: unknown kind `trian`; did you mean `train`?"),
            "{e}"
        );
        let e = parse("stage:\n  t: {kind: train}\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("p.yaml:1:1: unknown key `stage`; did you mean `stages`?"),
            "{e}"
        );
    }

    #[test]
    fn defaults_fill_in_what_a_stage_does_not_say() {
        let s = parse(
            "defaults:\n  train: {batch: 32, seed: 1}\nstages:\n  t: {kind: train, seed: 2}\n",
        )
        .unwrap();
        let p: Vec<_> = s.stages[0]
            .params
            .iter()
            .map(|(k, _, v)| (k.clone(), v.to_json()))
            .collect();
        assert_eq!(
            p,
            vec![("batch".into(), 32.into()), ("seed".into(), 2.into())]
        );
        assert_eq!(s.name, "p");
    }

    #[test]
    fn nested_defaults_merge_key_by_key() {
        let s = parse(
            "defaults:\n  train: {optim: {lr: 0.1, weight-decay: 0.0005}, method: {fm: {beta: 2}}}\n\
             stages:\n  t: {kind: train, optim: {epochs: 2}, method: {fm: {pairs: all-to-all}}}\n",
        )
        .unwrap();
        let get = |k: &str| {
            s.stages[0]
                .params
                .iter()
                .find(|(n, _, _)| n == k)
                .map(|(_, _, v)| v.to_json())
                .unwrap()
        };
        assert_eq!(
            get("optim"),
            serde_json::json!({"epochs": 2, "lr": 0.1, "weight-decay": 0.0005})
        );
        assert_eq!(
            get("method"),
            serde_json::json!({"fm": {"pairs": "all-to-all", "beta": 2}})
        );
    }

    #[test]
    fn bad_settings_point_at_the_value() {
        let e = parse("settings: {executor: slurmm}\nstages:\n  t: {kind: train}\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.yaml:1:") && e.contains("slurmm"), "{e}");
    }
}
