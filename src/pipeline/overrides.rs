//! Parameter overrides for one run: `--set STAGE.PARAM[.KEY…]=VALUE`, the value in YAML. An
//! override is an edit of the stage as written, made before the kind's defaults are merged in,
//! so it gives exactly the cache key that editing the file to that value gives: `--set
//! target.optim.lr=0.1` is `lr: 0.1` written into the stage's `optim:` (which is created when
//! the stage has none, and then merged with the defaults as a written one is). A key that is a
//! number steps into a list (`target.method.1`). An unknown stage or parameter is an error
//! naming the nearest one. The values' positions are in the pseudo-file `--set`: the line is
//! the override's number (from 1), the column the column in the argument.

use super::include::RawStage;
use super::names::{did_you_mean, nearest};
use crate::error::{Error, Result};
use crate::yaml::{self, Node, Pos, Value};
use std::path::Path;

/// One `--set` argument, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The argument as given.
    pub arg: String,
    /// The stage.
    pub stage: String,
    /// The parameter, then keys (or list indices) within its value.
    pub path: Vec<String>,
    /// The value, its positions on line 1, columns counted in the argument.
    pub value: Node,
}

impl Override {
    /// Parses `STAGE.PARAM[.KEY…]=VALUE`.
    pub fn parse(arg: &str) -> Result<Override> {
        let bad = |why: &str| {
            Error::Invalid(format!(
                "--set {arg}: {why} (write STAGE.PARAM=VALUE, e.g. target.optim.lr=0.1)"
            ))
        };
        let (key, text) = arg.split_once('=').ok_or_else(|| bad("no `=`"))?;
        let mut steps = key.trim().split('.').map(str::to_string);
        let stage = steps.next().unwrap_or_default();
        let path: Vec<String> = steps.collect();
        if stage.is_empty() || path.is_empty() || path.iter().any(String::is_empty) {
            return Err(bad("name a stage and a parameter"));
        }
        if text.trim().is_empty() {
            return Err(bad("no value after `=` (`~` is null)"));
        }
        let mut value = yaml::parse(text).map_err(|e| {
            Error::Invalid(format!("--set {arg}: the value is not YAML: {}", e.msg))
        })?;
        let offset = key.chars().count() + 1;
        value.map_pos(&|p| Pos {
            line: 1,
            col: p.col + offset,
            file: 0,
        });
        Ok(Override {
            arg: arg.to_string(),
            stage,
            path,
            value,
        })
    }

    /// Applies the override to the stage it names among `stages`; `n` is its number (from 1)
    /// and `file` the number of the pseudo-file `--set`, for positions; `pipeline` names the
    /// pipeline in errors.
    pub fn apply(
        &self,
        stages: &mut [RawStage],
        n: usize,
        file: usize,
        pipeline: &Path,
    ) -> Result<()> {
        let bad = |why: String| Error::Invalid(format!("--set {}: {why}", self.arg));
        let Some(i) = stages.iter().position(|s| s.name == self.stage) else {
            let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
            let hint = nearest(&self.stage, names.iter().copied())
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            return Err(bad(format!(
                "no stage `{}` in {}; {hint}stages: {}",
                self.stage,
                pipeline.display(),
                names.join(", ")
            )));
        };
        let stage = &mut stages[i];
        let kind = stage
            .node
            .as_map()
            .and_then(|m| m.iter().find(|(k, _, _)| k == "kind"))
            .and_then(|(_, _, v)| v.to_json().as_str()?.parse::<super::kinds::Kind>().ok());
        let param = &self.path[0];
        if param == "kind" {
            return Err(bad("a stage's `kind` cannot be set".into()));
        }
        if let Some(kind) = kind {
            if kind.param(param).is_none() {
                let all = kind.params().iter().map(|p| p.name);
                return Err(bad(format!(
                    "a `{kind}` stage (`{}`) has no parameter `{param}`; {}",
                    self.stage,
                    did_you_mean(param, all)
                )));
            }
        }
        let at = |p: Pos| Pos {
            line: n,
            col: p.col,
            file,
        };
        let mut value = self.value.clone();
        value.map_pos(&at);
        // Keys the override adds are placed where its value is.
        let key_pos = value.pos;
        set(&mut stage.node, &self.path, value, key_pos)
            .map_err(|(depth, why)| bad(format!("`{}` {why}", self.shown(depth))))
    }

    /// The stage and the first `depth` steps of the path, dotted.
    fn shown(&self, depth: usize) -> String {
        let mut parts = vec![self.stage.as_str()];
        parts.extend(self.path[..depth].iter().map(String::as_str));
        parts.join(".")
    }
}

/// Sets the value at `path` below `node`, creating mappings where keys are missing; an error
/// says how many steps were taken and what was in the way.
fn set(node: &mut Node, path: &[String], value: Node, key_pos: Pos) -> Result<(), (usize, String)> {
    let mut here = node;
    for (depth, step) in path.iter().enumerate() {
        let last = depth + 1 == path.len();
        here = match &mut here.value {
            Value::Map(entries) => {
                let i = match entries.iter().position(|(k, _, _)| k == step) {
                    Some(i) => i,
                    None => {
                        let empty = Node {
                            pos: key_pos,
                            value: Value::Map(Vec::new()),
                        };
                        entries.push((step.clone(), key_pos, empty));
                        entries.len() - 1
                    }
                };
                &mut entries[i].2
            }
            Value::Seq(items) => {
                let len = items.len();
                match step.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    Some(item) => item,
                    None => {
                        return Err((
                            depth,
                            format!(
                                "is a list of {len} (a sweep, or a list parameter): name an item \
                                 by its index (0 to {}) or set the whole list",
                                len.saturating_sub(1)
                            ),
                        ))
                    }
                }
            }
            Value::Scalar(v) => {
                return Err((
                    depth,
                    format!("is `{v}`, which has no `{step}`; set it whole"),
                ))
            }
            Value::Tagged(t, _) => {
                return Err((depth, format!("is a `!{t}` value; set it whole")));
            }
        };
        if last {
            *here = value;
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Vec<RawStage> {
        let root = yaml::parse(text).unwrap();
        root.as_map().unwrap()[0]
            .2
            .as_map()
            .unwrap()
            .iter()
            .map(|(name, pos, node)| RawStage {
                name: name.clone(),
                pos: *pos,
                node: node.clone(),
                defaults: Vec::new(),
            })
            .collect()
    }

    fn apply(text: &str, arg: &str) -> Result<serde_json::Value> {
        let mut stages = raw(text);
        Override::parse(arg)?.apply(&mut stages, 1, 1, Path::new("p.yaml"))?;
        Ok(stages[0].node.to_json())
    }

    #[test]
    fn a_value_is_set_where_the_path_says_creating_mappings() {
        let t = "stages:\n  t: {kind: train, optim: {epochs: 2}}\n";
        assert_eq!(
            apply(t, "t.optim.lr=0.1").unwrap(),
            serde_json::json!({"kind": "train", "optim": {"epochs": 2, "lr": 0.1}})
        );
        assert_eq!(
            apply(t, "t.seed=[0, 1]").unwrap(),
            serde_json::json!({"kind": "train", "optim": {"epochs": 2}, "seed": [0, 1]})
        );
        let t = "stages:\n  t: {kind: train, method: [fm, {l2t-ww: {}}]}\n";
        assert_eq!(
            apply(t, "t.method.1.l2t-ww.meta-every=2").unwrap()["method"],
            serde_json::json!(["fm", {"l2t-ww": {"meta-every": 2}}])
        );
    }

    #[test]
    fn unknown_stages_and_parameters_are_named_with_the_nearest() {
        let t = "stages:\n  target: {kind: train}\n";
        let e = apply(t, "targt.seed=1").unwrap_err().to_string();
        assert!(
            e.contains("no stage `targt`") && e.contains("did you mean `target`?"),
            "{e}"
        );
        let e = apply(t, "target.sed=1").unwrap_err().to_string();
        assert!(
            e.contains("has no parameter `sed`") && e.contains("`seed`"),
            "{e}"
        );
        let e = apply(t, "target.seed").unwrap_err().to_string();
        assert!(e.contains("no `=`"), "{e}");
        let e = apply(t, "target.seed=").unwrap_err().to_string();
        assert!(e.contains("no value"), "{e}");
        let e = apply("stages:\n  t: {kind: train, seed: 3}\n", "t.seed.x=1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`t.seed` is `3`"), "{e}");
    }

    #[test]
    fn positions_are_in_the_pseudo_file_on_the_override_s_line() {
        let mut stages = raw("stages:\n  t: {kind: train}\n");
        let o = Override::parse("t.optim={lr: x}").unwrap();
        o.apply(&mut stages, 3, 5, Path::new("p.yaml")).unwrap();
        let pos = stages[0]
            .node
            .locate(&["optim".to_string(), "lr".to_string()]);
        assert_eq!((pos.file, pos.line, pos.col), (5, 3, 10));
    }
}
