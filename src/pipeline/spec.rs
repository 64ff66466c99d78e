//! A pipeline file as written: its name, per-kind defaults and named stages, each with a kind
//! and parameters, every value with its position. Checks what can be checked without looking at
//! other stages: the top-level keys, each stage's kind and parameter names (with the nearest
//! valid name when one is misspelt), the settings. A kind's defaults are merged under each
//! stage's own parameters by the parameters' rules ([`super::merge`]). The stages and defaults
//! of included files are read by [`super::include`]; `--set` overrides ([`super::overrides`])
//! edit the stages as written before the defaults are merged.

pub use super::include::at;
use super::include::{self, check_params, Documents, RawStage};
use super::kinds::{Kind, KIND_NAMES};
use super::merge::merge;
use super::names::valid_name;
pub use super::names::{did_you_mean, names_in, nearest};
pub use super::overrides::Override;
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

/// A pipeline file, with the files it includes and the `--set` overrides of the run.
#[derive(Debug, Clone)]
pub struct PipelineSpec {
    /// The file.
    pub path: PathBuf,
    /// Every file its positions are in ([`Pos::file`] indexes it): the file itself, the files
    /// it includes, then `--set` when overrides were given.
    pub files: Vec<PathBuf>,
    /// How many of `files` are real files (the rest is `--set`).
    pub included: usize,
    /// The pipeline's name (`pipeline:` or the file stem).
    pub name: String,
    /// The stages in file order.
    pub stages: Vec<StageSpec>,
    /// The file's parsed document.
    pub root: Node,
    /// `settings:` (executor, Slurm resources).
    pub settings: Settings,
}

impl PipelineSpec {
    /// An error at `pos`, in the file the position is in.
    pub fn err(&self, pos: Pos, msg: impl Into<String>) -> Error {
        at(self.file(pos), pos, msg)
    }

    /// The file a position is in: this one, an included one, or `--set`.
    pub fn file(&self, pos: Pos) -> &Path {
        self.files.get(pos.file).unwrap_or(&self.path)
    }

    /// The folder relative paths of `stage` are taken from: that of the file it is written in
    /// (an included file's folder for its stages).
    pub fn base_of(&self, stage: &StageSpec) -> PathBuf {
        match self.files.get(stage.pos.file) {
            Some(f) if stage.pos.file < self.included => super::absolute_base(f),
            _ => super::absolute_base(&self.path),
        }
    }

    /// The position of the value at `path` (keys, sequence indices) under stage `stage` (its
    /// defaults merged in); the stage's position when the path does not lead anywhere.
    pub fn locate(&self, stage: &str, path: &[String]) -> Pos {
        let Some(s) = self.stage(stage) else {
            return self.root.pos;
        };
        match path.split_first() {
            Some((first, rest)) => match s.params.iter().find(|(n, _, _)| n == first) {
                Some((_, kpos, _)) if rest.is_empty() => *kpos,
                Some((_, _, node)) => node.locate(rest),
                None => s.pos,
            },
            None => s.pos,
        }
    }

    /// The stage called `name`.
    pub fn stage(&self, name: &str) -> Option<&StageSpec> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// Reads and checks a pipeline file and the files it includes.
    pub fn read(path: &Path) -> Result<PipelineSpec> {
        Self::read_with(path, &[])
    }

    /// Reads and checks a pipeline file with `overrides` applied (`--set`).
    pub fn read_with(path: &Path, overrides: &[Override]) -> Result<PipelineSpec> {
        let text = fsx::read_to_string(path)?;
        Self::parse_with(path, &text, overrides)
    }

    /// Checks a pipeline given as text (`path` names it in errors; included files are found
    /// beside it).
    pub fn parse(path: &Path, text: &str) -> Result<PipelineSpec> {
        Self::parse_with(path, text, &[])
    }

    /// Checks a pipeline given as text, with `overrides` applied.
    pub fn parse_with(path: &Path, text: &str, overrides: &[Override]) -> Result<PipelineSpec> {
        let Documents {
            mut files,
            root,
            stages: mut raw,
        } = include::read_all(path, text)?;
        let top = root.as_map().unwrap_or_default();
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
        if raw.is_empty() {
            return Err(at(
                path,
                root.pos,
                "no stages: neither this file's `stages:` nor the files it includes define any",
            ));
        }
        let included = files.len();
        if !overrides.is_empty() {
            files.push(PathBuf::from("--set"));
            for (n, o) in overrides.iter().enumerate() {
                o.apply(&mut raw, n + 1, included, path)?;
            }
        }
        let stages = raw
            .iter()
            .map(|r| read_stage(&files, r))
            .collect::<Result<Vec<_>>>()?;
        Ok(PipelineSpec {
            path: path.to_path_buf(),
            files,
            included,
            name,
            stages,
            root,
            settings,
        })
    }
}

/// A stage made whole: its kind read, its parameters checked and merged over its defaults.
fn read_stage(files: &[PathBuf], raw: &RawStage) -> Result<StageSpec> {
    let err = |pos: Pos, msg: String| at(&files[pos.file], pos, msg);
    let (name, pos) = (raw.name.as_str(), raw.pos);
    let map = raw.node.as_map().ok_or_else(|| {
        err(
            pos,
            format!("stage `{name}` must be a mapping with `kind:`"),
        )
    })?;
    let kind = match map.iter().find(|(k, _, _)| k == "kind") {
        Some((_, _, v)) => {
            let text = match v.to_json() {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            text.parse::<Kind>().map_err(|_| {
                err(
                    v.pos,
                    format!(
                        "unknown kind `{text}`; {}",
                        did_you_mean(&text, KIND_NAMES.iter().copied())
                    ),
                )
            })?
        }
        None => {
            return Err(err(
                pos,
                format!("stage `{name}` has no `kind:` ({})", KIND_NAMES.join(", ")),
            ))
        }
    };
    let own: Vec<(String, Pos, Node)> = map
        .iter()
        .filter(|(k, _, _)| k != "kind")
        .cloned()
        .collect();
    // Parameters set by `--set` were checked when applied.
    check_params(&files[pos.file], kind, &own)?;
    let mut params: Vec<(String, Pos, Node)> = Vec::new();
    let defaults: Vec<&(String, Pos, Node)> = raw
        .defaults
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
