//! From a checked [`PipelineSpec`] to a [`Plan`]: the stage graph in dependency order
//! ([`order`]: unknown stage names and cycles are errors with positions), sweeps expanded into
//! instances joined with the instances of the stages they read ([`expand`]), and every instance
//! typed by its kind, checked (alone and against its inputs: labels, class counts,
//! architectures), its paths resolved and its cache key computed ([`instance`]). Every error
//! points at the file, line and column of the value.

mod expand;
mod instance;
mod order;

use super::kinds::Kind;
use super::spec::{PipelineSpec, StageSpec};
use super::stages::{PlannedInput, StageParams};
use crate::cache::{Explanation, FileHashes, Key};
use crate::device::Precision;
use crate::error::{Error, Result};
use crate::yaml::Pos;
use serde::{Deserialize, Serialize};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub use super::labels::Labels;

/// A stage: its index in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StageId(pub usize);

/// An instance: its index in [`Plan::instances`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InstanceId(pub usize);

/// An external file or folder an instance reads.
#[derive(Debug, Clone, PartialEq)]
pub struct FileInput {
    /// Its name in the key (`from`, `checkpoint`, `standardize.0`).
    pub name: String,
    /// The parameter that names it (for positions).
    pub param: Vec<String>,
    /// Where it is.
    pub path: PathBuf,
    /// Its content hash when planned; `None` when it does not exist.
    pub hash: Option<String>,
}

/// One run of a stage: one point of its sweep, joined with the instances it reads.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Its index in [`Plan::instances`].
    pub id: InstanceId,
    /// Its stage.
    pub stage: StageId,
    /// Its stage's kind.
    pub kind: Kind,
    /// `stage` or `stage[label=value,…]`.
    pub name: String,
    /// Its labels (own sweep coordinates, then inherited ones).
    pub labels: Labels,
    /// Its parameters, typed, paths resolved (inputs excluded).
    pub params: StageParams,
    /// For each input parameter, the instances it reads.
    pub inputs: Vec<(String, Vec<InstanceId>)>,
    /// External files it reads.
    pub files: Vec<FileInput>,
    /// The class count of the data it writes, when known before it runs.
    pub classes: Option<usize>,
    /// Its cache key.
    pub key: Key,
    /// What the key was made of.
    pub explanation: Explanation,
    /// Who it is across edits that change only labels or values: its stage, its position in
    /// the sweeps and its inputs' identities, hashed (what `status` remembers it by).
    pub identity: String,
    /// For each parameter, the index of its value in a sweep (`None` when not swept).
    pub picked: BTreeMap<String, Option<usize>>,
}

impl Instance {
    /// The external files that do not exist.
    pub fn missing(&self) -> impl Iterator<Item = &FileInput> {
        self.files.iter().filter(|f| f.hash.is_none())
    }

    /// Every instance it reads.
    pub fn upstream(&self) -> impl Iterator<Item = InstanceId> + '_ {
        self.inputs.iter().flat_map(|(_, v)| v.iter().copied())
    }

    /// How the stages' checks against their inputs see it, as an input of another instance.
    pub fn as_input(&self) -> PlannedInput<'_> {
        PlannedInput {
            name: &self.name,
            labels: &self.labels,
            params: &self.params,
            classes: self.classes,
        }
    }
}

/// What the plan depends on besides the file: the run's precision (stages that compute with
/// networks key on it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// `--precision`.
    pub precision: Precision,
}

/// A validated pipeline: stages in dependency order and every instance with its key.
#[derive(Debug)]
pub struct Plan {
    /// The file as written.
    pub spec: PipelineSpec,
    /// Stages in dependency order.
    pub order: Vec<StageId>,
    /// Every instance, in dependency order.
    pub instances: Vec<Instance>,
    /// The instances of each stage.
    pub by_stage: Vec<Vec<InstanceId>>,
    /// What it was planned with.
    pub options: PlanOptions,
}

impl Plan {
    /// Builds the plan of `spec`.
    pub fn new(spec: PipelineSpec, hashes: &FileHashes, options: PlanOptions) -> Result<Plan> {
        let order = order::stage_order(&spec)?;
        let mut plan = Plan {
            order: order.clone(),
            instances: Vec::new(),
            by_stage: vec![Vec::new(); spec.stages.len()],
            spec,
            options,
        };
        for s in order {
            plan.expand(s, hashes)?;
        }
        Ok(plan)
    }

    /// An instance.
    pub fn instance(&self, id: InstanceId) -> &Instance {
        &self.instances[id.0]
    }

    /// The stage spec of an instance.
    pub fn stage_of(&self, i: &Instance) -> &StageSpec {
        &self.spec.stages[i.stage.0]
    }

    /// The stage called `name`.
    pub fn stage_index(&self, name: &str) -> Option<StageId> {
        self.spec
            .stages
            .iter()
            .position(|s| s.name == name)
            .map(StageId)
    }

    /// The instances of a stage.
    pub fn instances_of(&self, s: StageId) -> impl Iterator<Item = &Instance> {
        self.by_stage[s.0].iter().map(|&i| self.instance(i))
    }

    /// The position of the value at `path` (a parameter, then keys and indices within its
    /// value) of `inst`'s stage, inside the sweep item the instance takes.
    pub fn pos(&self, inst: &Instance, path: &[String]) -> Pos {
        pos_in(&self.spec.stages[inst.stage.0], &inst.picked, path)
    }

    /// An error at the value at `path` of `inst`.
    pub fn err_at(&self, inst: &Instance, path: &[String], msg: impl Into<String>) -> Error {
        self.spec.err(self.pos(inst, path), msg)
    }
}

/// The position of `path` in `stage` (whose parameters are merged with the defaults, each value
/// keeping its own position), inside the sweep items `picked` names.
pub(crate) fn pos_in(
    stage: &StageSpec,
    picked: &BTreeMap<String, Option<usize>>,
    path: &[String],
) -> Pos {
    let Some((_, key_pos, node)) = path
        .first()
        .and_then(|k| stage.params.iter().find(|(n, _, _)| n == k))
    else {
        return stage.pos;
    };
    let mut rest = path[1..].to_vec();
    if let Some(Some(i)) = picked.get(&path[0]) {
        rest.insert(0, i.to_string());
    }
    if rest.is_empty() {
        *key_pos
    } else {
        node.locate(&rest)
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

/// Labels as `a=1, b=2` (`(no labels)` when empty).
pub fn show(labels: &Labels) -> String {
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
