//! The checks of a run that need the disk or the cache, made before anything runs, each error at
//! the position of the parameter concerned: a dataset a stale instance reads is not installed,
//! or an external file it reads does not exist; a choice of images (classes, images per class)
//! that the data already in the cache cannot give — the dataset and subset entries record every
//! split's images per class.

use super::super::plan::{Instance, InstanceId, Plan};
use super::super::stages::Demand;
use crate::cache::{Lookup, Store, Verify};
use crate::error::{Error, Result};
use serde_json::Value;

/// What `inst` reads that is not on this machine — a dataset not installed, then every external
/// file that does not exist — each as an error at the parameter that names it.
pub fn absent(plan: &Plan, inst: &Instance) -> Vec<Error> {
    let stage = &plan.stage_of(inst).name;
    if let Some(e) = inst.params.unavailable() {
        let msg = format!("stage `{stage}`: {}", e.shown());
        return vec![plan.err_at(inst, &e.path, msg)];
    }
    inst.missing()
        .map(|f| {
            let msg = format!(
                "stage `{stage}` reads {}, which does not exist",
                f.path.display()
            );
            plan.err_at(inst, &f.param, msg)
        })
        .collect()
}

/// Errors at the first input of the instances `ids` that is not on this machine.
pub fn files(plan: &Plan, ids: &[InstanceId]) -> Result<()> {
    for &i in ids {
        if let Some(e) = absent(plan, plan.instance(i)).into_iter().next() {
            return Err(e);
        }
    }
    Ok(())
}

/// The class names and the images per class of `split` recorded in an entry's manifest.
fn counts(meta: &Value, split: &str) -> Option<(Vec<String>, Vec<usize>)> {
    let m = &meta["metrics"];
    let names = serde_json::from_value(m["class_names"].clone()).ok()?;
    let counts = serde_json::from_value(m["counts"][split].clone()).ok()?;
    Some((names, counts))
}

/// Errors at the first choice of images of the instances `ids` that their `data` input, when
/// it is in the cache, cannot give.
pub fn data(plan: &Plan, store: &Store, ids: &[InstanceId]) -> Result<()> {
    for &i in ids {
        let inst = plan.instance(i);
        let Some(up) = inst
            .inputs
            .iter()
            .find(|(r, _)| r == "data")
            .and_then(|(_, v)| v.first())
            .map(|&u| plan.instance(u))
        else {
            continue;
        };
        let Lookup::Hit(entry) = store.lookup(&up.key, Verify::Fast)? else {
            continue;
        };
        for Demand {
            split,
            select,
            per_class,
            param,
        } in inst.params.demands()
        {
            let Some((names, n)) = counts(entry.meta(), split) else {
                continue;
            };
            if let Err((field, msg)) = select.check_counts(per_class, &n, &names) {
                let at = if field == "classes" { field } else { param };
                return Err(plan.err_at(
                    inst,
                    &[at.to_string()],
                    format!(
                        "stage `{}`: {msg} (the {split} split of `{}`)",
                        plan.stage_of(inst).name,
                        up.name
                    ),
                ));
            }
        }
    }
    Ok(())
}
