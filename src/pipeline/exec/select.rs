//! What `--only` and `--force` name: a stage (all its instances) or one instance
//! (`'target[method=fm,seed=0]'`). A name that is neither is an error with the nearest stage or
//! instance name, whichever executor runs the plan. `--only` takes the named instances and every
//! instance they read.

use super::super::plan::{InstanceId, Plan};
use super::super::spec::nearest;
use crate::error::{Error, Result};
use std::collections::BTreeSet;

/// The instances a run considers and those it recomputes even when cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Considered: everything, or what `--only` names and what that reads.
    pub selected: BTreeSet<InstanceId>,
    /// Recomputed even when fresh (`--force`).
    pub forced: BTreeSet<InstanceId>,
}

/// The instances `name` stands for: a stage's, or one instance.
fn resolve(plan: &Plan, flag: &str, name: &str) -> Result<Vec<InstanceId>> {
    if let Some(s) = plan.stage_index(name) {
        return Ok(plan.by_stage[s.0].clone());
    }
    if let Some(i) = plan.instances.iter().find(|i| i.name == name) {
        return Ok(vec![i.id]);
    }
    let candidates = plan
        .spec
        .stages
        .iter()
        .map(|s| s.name.as_str())
        .chain(plan.instances.iter().map(|i| i.name.as_str()));
    let hint = nearest(name, candidates)
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default();
    let stages: Vec<&str> = plan.spec.stages.iter().map(|s| s.name.as_str()).collect();
    Err(Error::Invalid(format!(
        "{flag}: no stage or instance `{name}` in {}{hint} (stages: {}; an instance is named as \
         `l2tww dag --instances` lists it)",
        plan.spec.path.display(),
        stages.join(", ")
    )))
}

impl Selection {
    /// The selection `--only only --force force` makes in `plan`.
    pub fn new(plan: &Plan, only: &[String], force: &[String]) -> Result<Selection> {
        let mut forced = BTreeSet::new();
        for name in force {
            forced.extend(resolve(plan, "--force", name)?);
        }
        if only.is_empty() {
            let selected = plan.instances.iter().map(|i| i.id).collect();
            return Ok(Selection { selected, forced });
        }
        let mut todo: Vec<InstanceId> = Vec::new();
        for name in only {
            todo.extend(resolve(plan, "--only", name)?);
        }
        let mut selected = BTreeSet::new();
        while let Some(i) = todo.pop() {
            if selected.insert(i) {
                todo.extend(plan.instance(i).upstream());
            }
        }
        Ok(Selection { selected, forced })
    }
}
