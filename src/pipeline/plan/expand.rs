//! Sweeps and joins: a list where a parameter takes one value is a sweep (one instance per
//! combination, each labelled with its values); a stage reading a swept stage gets one
//! instance per upstream instance, inheriting its labels (labels with the same name must agree);
//! a stage reading all of a stage's instances at once (a report's `runs`) takes those whose
//! labels agree with its own.

use super::super::kinds::{Param, Shape};
use super::super::labels::{label_of, sweep_labels, take_label};
use super::super::spec::{names_in, nearest, StageSpec};
use super::{show, InstanceId, Labels, Plan, StageId};
use crate::cache::FileHashes;
use crate::error::Result;
use crate::yaml::{Node, Pos, Value};
use serde_json::Value as J;
use std::collections::BTreeMap;

/// The values a parameter sweeps over (one when it is not a sweep) and whether it is a sweep.
fn sweep_values(param: &Param, node: &Node) -> (Vec<Node>, bool) {
    let items = match &node.value {
        Value::Seq(items) => items,
        _ => return (vec![node.clone()], false),
    };
    let all_lists = !items.is_empty() && items.iter().all(|n| matches!(n.value, Value::Seq(_)));
    match param.shape {
        Shape::Scalar | Shape::Value | Shape::Input => (items.clone(), true),
        Shape::List | Shape::InputList if all_lists => (items.clone(), true),
        _ => (vec![node.clone()], false),
    }
}

/// An instance being put together: its labels, its parameters as written (sweeps resolved),
/// the sweep index of each parameter, the stages it names and the instances it reads.
#[derive(Clone, Default)]
pub(super) struct Partial {
    pub labels: Labels,
    pub raw: serde_json::Map<String, J>,
    /// param → its sweep index (for positions and the instance's identity).
    pub picked: BTreeMap<String, Option<usize>>,
    pub refs: Vec<(String, Vec<String>, Pos)>,
    pub inputs: Vec<(String, Vec<InstanceId>)>,
}

fn compatible(a: &Labels, b: &Labels) -> bool {
    b.iter().all(|(k, v)| {
        a.iter()
            .find(|(k2, _)| k2 == k)
            .is_none_or(|(_, v2)| v2 == v)
    })
}

fn merged(a: &Labels, b: &Labels) -> Labels {
    let mut out = a.clone();
    for (k, v) in b {
        if !out.iter().any(|(k2, _)| k2 == k) {
            out.push((k.clone(), v.clone()));
        }
    }
    out
}

impl Plan {
    pub(super) fn expand(&mut self, s: StageId, hashes: &FileHashes) -> Result<()> {
        let stage = self.spec.stages[s.0].clone();
        let mut partials = vec![Partial::default()];
        for (name, pos, node) in &stage.params {
            let param = stage.kind.param(name).expect("checked by the spec");
            let (values, swept) = sweep_values(param, node);
            let mut jsons: Vec<J> = values.iter().map(Node::to_json).collect();
            // A single option set with a `label:` labels as a sweep of one does.
            let single_label = match (&param.shape, swept) {
                (Shape::Value, false) => take_label(&mut jsons[0]),
                _ => None,
            };
            let labelled = swept || single_label.is_some();
            let labels = if let Some(l) = single_label {
                vec![l]
            } else if swept && param.shape == Shape::Value {
                sweep_labels(&mut jsons).map_err(|(i, label)| {
                    self.spec.err(
                        values[i].pos,
                        format!(
                            "stage `{}`: two values of `{name}` have the label `{label}`; \
                             give them distinct labels (`label: …` beside the value's options)",
                            stage.name
                        ),
                    )
                })?
            } else if swept {
                jsons.iter().map(label_of).collect()
            } else {
                Vec::new()
            };
            let mut next = Vec::new();
            for p in &partials {
                for (i, v) in values.iter().enumerate() {
                    let mut q = p.clone();
                    let json = jsons[i].clone();
                    if labelled {
                        q.labels.push((name.clone(), labels[i].clone()));
                    }
                    q.picked.insert(name.clone(), swept.then_some(i));
                    if param.is_input() {
                        let names = names_in(&json);
                        for n in &names {
                            self.check_ref(&stage, param, n, if swept { v.pos } else { *pos })?;
                        }
                        q.refs.push((name.clone(), names, v.pos));
                    } else {
                        q.raw.insert(name.clone(), json);
                    }
                    next.push(q);
                }
            }
            partials = next;
        }
        // Join with the instances of the inputs.
        for (name, _, _) in stage
            .params
            .iter()
            .filter(|(n, _, _)| stage.kind.param(n).is_some_and(|p| p.is_input()))
        {
            let param = stage.kind.param(name).expect("checked");
            let mut next = Vec::new();
            for p in partials {
                let (_, names, pos) = p
                    .refs
                    .iter()
                    .find(|(r, _, _)| r == name)
                    .cloned()
                    .expect("recorded");
                if param.shape == Shape::InputAll {
                    let mut q = p.clone();
                    let ids: Vec<InstanceId> = names
                        .iter()
                        .flat_map(|n| {
                            self.by_stage[self.stage_index(n).expect("checked").0].clone()
                        })
                        .filter(|&u| compatible(&p.labels, &self.instance(u).labels))
                        .collect();
                    if ids.is_empty() {
                        return Err(self.spec.err(
                            pos,
                            format!(
                                "no instance of {} matches {}",
                                names.join(", "),
                                show(&p.labels)
                            ),
                        ));
                    }
                    q.inputs.push((name.clone(), ids));
                    next.push(q);
                    continue;
                }
                let mut group = vec![p.clone()];
                for n in &names {
                    let ups = self.by_stage[self.stage_index(n).expect("checked").0].clone();
                    let mut grown = Vec::new();
                    for g in &group {
                        for &u in &ups {
                            let ul = &self.instance(u).labels;
                            if compatible(&g.labels, ul) {
                                let mut q = g.clone();
                                q.labels = merged(&g.labels, ul);
                                match q.inputs.iter_mut().find(|(r, _)| r == name) {
                                    Some((_, ids)) => ids.push(u),
                                    None => q.inputs.push((name.clone(), vec![u])),
                                }
                                grown.push(q);
                            }
                        }
                    }
                    if grown.is_empty() {
                        return Err(self.spec.err(
                            pos,
                            format!("no instance of `{n}` matches {}", show(&p.labels)),
                        ));
                    }
                    group = grown;
                }
                next.extend(group);
            }
            partials = next;
        }
        for p in partials {
            self.add_instance(s, &stage, p, hashes)?;
        }
        Ok(())
    }

    fn check_ref(&self, stage: &StageSpec, param: &Param, name: &str, pos: Pos) -> Result<()> {
        match self.spec.stage(name) {
            None => {
                let hint = nearest(name, self.spec.stages.iter().map(|s| s.name.as_str()))
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                Err(self.spec.err(
                    pos,
                    format!(
                        "`{}` of stage `{}` names an unknown stage `{name}`{hint}",
                        param.name, stage.name
                    ),
                ))
            }
            Some(up) if !param.accepts.contains(&up.kind) => Err(self.spec.err(
                pos,
                format!(
                    "`{}` of stage `{}` must name a {} stage; `{name}` is a `{}` stage",
                    param.name,
                    stage.name,
                    param
                        .accepts
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" or "),
                    up.kind
                ),
            )),
            Some(_) => Ok(()),
        }
    }
}
