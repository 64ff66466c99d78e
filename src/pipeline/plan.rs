//! From a checked [`PipelineSpec`] to a [`Plan`]: the stage graph (unknown stage names and cycles
//! are errors with positions), sweeps expanded into instances, instances joined with the
//! instances of the stages they read (labels with the same name must agree; labels an input has
//! and the stage lacks are inherited, one instance per input instance), every instance's
//! parameters type-checked by its kind, and its cache key computed.

use super::files::FileHashes;
use super::kinds::{Kind, Param, Shape};
use super::labels::{label_of, sweep_labels, take_label};
use super::spec::{nearest, PipelineSpec, StageSpec};
use super::stages;
use super::yaml::{Node, Pos, Value};
use crate::cache::{Explanation, Key, KeyBuilder};
use crate::error::Result;
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Sweep coordinates of an instance, in the order they were added.
pub type Labels = Vec<(String, String)>;

/// One run of a stage: one point of its sweep, joined with the instances it reads.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Index in [`Plan::instances`].
    pub id: usize,
    /// Index of its stage in the spec.
    pub stage: usize,
    /// Its stage's kind.
    pub kind: Kind,
    /// `stage` or `stage[label=value,…]`.
    pub name: String,
    /// Its labels (own sweep coordinates, then inherited ones).
    pub labels: Labels,
    /// Its parameters, sweeps resolved (inputs excluded).
    pub params: serde_json::Map<String, J>,
    /// For each input parameter, the instances it reads.
    pub inputs: Vec<(String, Vec<usize>)>,
    /// External files it reads (name, path, content hash).
    pub files: Vec<(String, PathBuf, String)>,
    /// External files that do not exist (an error when it runs).
    pub missing: Vec<PathBuf>,
    /// Its cache key.
    pub key: Key,
    /// What the key was made of.
    pub explanation: Explanation,
}

/// A validated pipeline: stages in dependency order and every instance with its key.
#[derive(Debug)]
pub struct Plan {
    /// The file as written.
    pub spec: PipelineSpec,
    /// Stage indices in dependency order.
    pub order: Vec<usize>,
    /// Every instance, in dependency order.
    pub instances: Vec<Instance>,
    /// The instances of each stage.
    pub by_stage: Vec<Vec<usize>>,
}

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

#[derive(Clone, Default)]
struct Partial {
    labels: Labels,
    params: serde_json::Map<String, J>,
    /// param → (sweep index, value node) for positions.
    picked: BTreeMap<String, Option<usize>>,
    refs: Vec<(String, Vec<String>, Pos)>,
    inputs: Vec<(String, Vec<usize>)>,
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

fn names_in(v: &J) -> Vec<String> {
    match v {
        J::String(s) => vec![s.clone()],
        J::Array(items) => items.iter().flat_map(names_in).collect(),
        _ => Vec::new(),
    }
}

impl Plan {
    /// Builds the plan of `spec`.
    pub fn new(spec: PipelineSpec, hashes: &FileHashes) -> Result<Plan> {
        let order = stage_order(&spec)?;
        let mut plan = Plan {
            order: order.clone(),
            instances: Vec::new(),
            by_stage: vec![Vec::new(); spec.stages.len()],
            spec,
        };
        for s in order {
            plan.expand(s, hashes)?;
        }
        Ok(plan)
    }

    /// The stage spec of an instance.
    pub fn stage_of(&self, i: &Instance) -> &StageSpec {
        &self.spec.stages[i.stage]
    }

    /// The index of the stage called `name`.
    pub fn stage_index(&self, name: &str) -> Option<usize> {
        self.spec.stages.iter().position(|s| s.name == name)
    }

    fn expand(&mut self, s: usize, hashes: &FileHashes) -> Result<()> {
        let stage = self.spec.stages[s].clone();
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
                        q.params.insert(name.clone(), json);
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
                    let ids: Vec<usize> = names
                        .iter()
                        .flat_map(|n| self.by_stage[self.stage_index(n).expect("checked")].clone())
                        .filter(|&u| compatible(&p.labels, &self.instances[u].labels))
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
                    let ups = self.by_stage[self.stage_index(n).expect("checked")].clone();
                    let mut grown = Vec::new();
                    for g in &group {
                        for &u in &ups {
                            let ul = &self.instances[u].labels;
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

    fn add_instance(
        &mut self,
        s: usize,
        stage: &StageSpec,
        p: Partial,
        hashes: &FileHashes,
    ) -> Result<()> {
        // Type-check the parameters; a failure points at the offending value.
        if let Err((path, msg)) = stages::check(stage.kind, &p.params) {
            let mut full = path.clone();
            if let Some(Some(i)) = path.first().and_then(|k| p.picked.get(k)) {
                full.insert(1, i.to_string());
            }
            let pos = self.spec.locate(&stage.name, &full);
            return Err(self.spec.err(pos, format!("stage `{}`: {msg}", stage.name)));
        }
        let base = super::absolute_base(&self.spec.path);
        let ext = stages::external(stage.kind, &p.params, &base);
        let mut kb = KeyBuilder::new(&stage.kind.to_string(), stage.kind.version());
        for (k, v) in &p.params {
            if stage.kind.param(k).is_some_and(|q| q.keyed) {
                kb = kb.param(k, v.clone());
            }
        }
        for (k, v) in ext.params {
            kb = kb.param(&k, v);
        }
        for (role, ids) in &p.inputs {
            for (j, u) in ids.iter().enumerate() {
                kb = kb.input(&format!("{role}.{j}"), &self.instances[*u].key);
            }
            if stage
                .kind
                .param(role)
                .is_some_and(|q| q.shape == Shape::InputAll)
            {
                let labels: Vec<J> = ids
                    .iter()
                    .map(|u| labels_json(&self.instances[*u].labels))
                    .collect();
                kb = kb.param(&format!("{role}.labels"), J::Array(labels));
            }
        }
        let mut missing = Vec::new();
        let mut files = Vec::new();
        for (name, path) in &ext.files {
            if path.exists() {
                let hash = hashes.hash(path)?;
                kb = kb.param(
                    &format!("file.{name}"),
                    serde_json::json!({"path": path.display().to_string(), "blake3": hash}),
                );
                files.push((name.clone(), path.clone(), hash));
            } else {
                missing.push(path.clone());
                kb = kb.param(
                    &format!("missing.{name}"),
                    J::String(path.display().to_string()),
                );
            }
        }
        let (key, explanation) = kb.finish();
        let id = self.instances.len();
        let name = if p.labels.is_empty() {
            stage.name.clone()
        } else {
            format!(
                "{}[{}]",
                stage.name,
                p.labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        };
        if self.by_stage[s]
            .iter()
            .any(|&u| self.instances[u].name == name)
        {
            let pos = self.spec.locate(&stage.name, &[]);
            return Err(self.spec.err(
                pos,
                format!(
                    "stage `{}` has two instances named `{name}`: their results would share a \
                     log and a report cell; make the swept values distinct",
                    stage.name
                ),
            ));
        }
        self.instances.push(Instance {
            id,
            stage: s,
            kind: stage.kind,
            name,
            labels: p.labels,
            params: p.params,
            inputs: p.inputs,
            files,
            missing,
            key,
            explanation,
        });
        self.by_stage[s].push(id);
        Ok(())
    }
}

/// Labels as a JSON object (for keys and manifests).
pub fn labels_json(labels: &Labels) -> J {
    J::Object(
        labels
            .iter()
            .map(|(k, v)| (k.clone(), J::String(v.clone())))
            .collect(),
    )
}

fn show(labels: &Labels) -> String {
    if labels.is_empty() {
        "(no labels)".into()
    } else {
        labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The stages in dependency order; a cycle is an error naming it.
fn stage_order(spec: &PipelineSpec) -> Result<Vec<usize>> {
    let n = spec.stages.len();
    let mut deps: Vec<Vec<(usize, Pos)>> = vec![Vec::new(); n];
    for (i, st) in spec.stages.iter().enumerate() {
        for (name, pos, node) in &st.params {
            if st.kind.param(name).is_some_and(|p| p.is_input()) {
                for r in names_in(&node.to_json()) {
                    match spec.stages.iter().position(|s| s.name == r) {
                        Some(j) => deps[i].push((j, *pos)),
                        None => {
                            let hint = nearest(&r, spec.stages.iter().map(|s| s.name.as_str()))
                                .map(|n| format!("; did you mean `{n}`?"))
                                .unwrap_or_default();
                            return Err(spec.err(
                                *pos,
                                format!(
                                    "`{name}` of stage `{}` names an unknown stage `{r}`{hint}",
                                    st.name
                                ),
                            ));
                        }
                    }
                }
            }
        }
    }
    // Depth-first search with colours; a grey node reached again closes a cycle.
    let mut colour = vec![0u8; n];
    let mut order = Vec::new();
    fn visit(
        i: usize,
        deps: &[Vec<(usize, Pos)>],
        colour: &mut [u8],
        order: &mut Vec<usize>,
        path: &mut Vec<usize>,
        spec: &PipelineSpec,
    ) -> Result<()> {
        colour[i] = 1;
        path.push(i);
        for &(j, pos) in &deps[i] {
            if colour[j] == 1 {
                let start = path.iter().position(|&k| k == j).unwrap_or(0);
                let mut names: Vec<&str> = path[start..]
                    .iter()
                    .map(|&k| spec.stages[k].name.as_str())
                    .collect();
                names.push(&spec.stages[j].name);
                return Err(spec.err(
                    pos,
                    format!("the stages form a cycle: {}", names.join(" → ")),
                ));
            }
            if colour[j] == 0 {
                visit(j, deps, colour, order, path, spec)?;
            }
        }
        path.pop();
        colour[i] = 2;
        order.push(i);
        Ok(())
    }
    for i in 0..n {
        if colour[i] == 0 {
            visit(i, &deps, &mut colour, &mut order, &mut Vec::new(), spec)?;
        }
    }
    Ok(order)
}
