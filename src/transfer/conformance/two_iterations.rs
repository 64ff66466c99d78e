//! `l2tww_two_iterations`: iterations of L2T-ww as the official loop runs them, on the path
//! training takes (`L2twwCase`: L2T-ww built by `MethodSpec::build_l2t`, each iteration the
//! engine's `train_step` with `L2t::after_step`), from the stored initial branch and meta-network
//! weights, the source checkpoint (eval mode) and the VGG9-bn target weights, in float64. Pairs,
//! T, β, learning rates, weight decays, the λ activation and its initialisation come from the
//! metadata; the number of iterations and the batches from the `iter{k}.*` tensors. Compared
//! after each iteration: the meta-gradients (the last meta step's, before Adam), the
//! meta-networks after Adam, the 1×1 convs, the (sampled) target parameters, the target's
//! batch-norm running statistics, each as a group, and the logged losses.

use super::compare::{rel_err, rel_err_concat, Group};
use super::l2tww_case::{official_name, L2twwCase};
use crate::error::{Error, Result};
use crate::models::weights::WeightFile;
use crate::transfer::engine::Method;
use std::path::Path;
use tch::{nn::VarStore, Device, Kind, Tensor};

/// The variables of `vs` that are trained (`trained`) or not (batch-norm running statistics),
/// sorted by name.
fn sorted(vs: &VarStore, trained: bool) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(_, t)| t.requires_grad() == trained)
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// L2T's names made the reference's (without the source prefix), optionally only those that
/// then start with `part`.
fn official(v: &[(String, Tensor)], part: &str) -> Vec<(String, Tensor)> {
    v.iter()
        .map(|(n, t)| (official_name(n).to_string(), t.shallow_clone()))
        .filter(|(n, _)| n.starts_with(part))
        .collect()
}

/// Every k-th element of the flattened tensor, k = ceil(numel / 4096), as the reference samples.
fn sampled(t: &Tensor) -> Tensor {
    let n = t.numel() as i64;
    let k = (n + 4095) / 4096;
    t.detach().flatten(0, -1).slice(0, 0, n, k.max(1))
}

fn group(
    file: &WeightFile,
    name: String,
    prefix: &str,
    ours: &[(String, Tensor)],
    sample: bool,
) -> Result<Group> {
    let mut a = Vec::new();
    let mut r = Vec::new();
    for (n, t) in ours {
        let key = format!("{prefix}{n}");
        if file.tensors.iter().any(|(k, _)| *k == key) {
            a.push(if sample { sampled(t) } else { t.detach() });
            r.push(file.get(&key)?.shallow_clone());
        }
    }
    if a.is_empty() {
        return Err(Error::bad_file(
            &file.path,
            format!("no reference tensors `{prefix}*`"),
        ));
    }
    Ok(Group {
        name,
        rel_err: rel_err_concat(&a, &r),
    })
}

/// The value of the term `name` that a step measured.
fn term(terms: &[(String, f64)], name: &str) -> f64 {
    terms
        .iter()
        .find(|(n, _)| n == name)
        .map_or(f64::NAN, |(_, v)| *v)
}

/// Runs the case and compares meta-gradients, parameters after each iteration and the losses.
pub fn run(dir: &Path, file: &WeightFile, dev: Device) -> Result<Vec<(String, Vec<Group>)>> {
    let mut case = L2twwCase::from_reference(dir, file, dev)?;
    let log: Option<serde_json::Value> = file
        .metadata
        .get("log")
        .and_then(|s| serde_json::from_str(s).ok());
    let mut results = Vec::new();
    for k in 0.. {
        let Ok(x) = file.get(&format!("iter{k}.x")) else {
            break;
        };
        let x = x.to_kind(Kind::Double).to_device(dev);
        let y = file
            .get(&format!("iter{k}.y"))?
            .to_kind(Kind::Int64)
            .to_device(dev);
        let step = case.step(&x, &y, k)?;
        let meta = case
            .method
            .last_meta_step()
            .ok_or_else(|| Error::Invalid(format!("iteration {k} took no meta step")))?;
        let phi = case.method.meta_params();
        let p = format!("iter{k}.");
        let mut groups = Vec::new();
        for (what, ours) in [("grad", &meta.grad), ("after", &phi)] {
            for part in ["wnet.", "lwnet."] {
                groups.push(group(
                    file,
                    format!("{p}{what}.{}", part.trim_end_matches('.')),
                    &format!("{p}{what}."),
                    &official(ours, part),
                    false,
                )?);
            }
        }
        groups.extend([
            group(
                file,
                format!("{p}after.branch"),
                &format!("{p}after."),
                &official(&case.method.trained_params(), "branch."),
                false,
            )?,
            group(
                file,
                format!("{p}after.target"),
                &format!("{p}after.target."),
                &sorted(&case.target.vs, true),
                true,
            )?,
            group(
                file,
                format!("{p}after.buffers"),
                &format!("{p}after.buffers."),
                &sorted(&case.target.vs, false),
                false,
            )?,
        ]);
        if let Some(log) = &log {
            for (key, ours) in [
                ("inner_ce", term(&step.terms, "ce")),
                ("inner_wfm", term(&step.terms, "wfm")),
                ("outer_ce", meta.outer_ce),
            ] {
                if let Some(r) = log.get(key).and_then(|v| v.get(k)).and_then(|v| v.as_f64()) {
                    let e = rel_err(&Tensor::from(ours), &Tensor::from(r));
                    groups.push(Group {
                        name: format!("{p}log.{key}"),
                        rel_err: e,
                    });
                }
            }
        }
        results.push((format!("iter{k}"), groups));
    }
    if results.is_empty() {
        return Err(Error::bad_file(
            &file.path,
            "no iterations (`iter0.x` is missing)",
        ));
    }
    Ok(results)
}
