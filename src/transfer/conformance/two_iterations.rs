//! `l2tww_two_iterations`: iterations of L2T-ww exactly as the official loop runs them, from the
//! stored initial branch and meta-network weights, the source checkpoint (eval mode) and the
//! VGG9-bn target weights, in float64. Pairs, T, β, learning rates, weight decays, the λ
//! activation and its initialisation come from the metadata; the number of iterations and the
//! batches from the `iter{k}.*` tensors. Compared after each iteration: the meta-gradients, the
//! meta-networks after Adam, the 1×1 convs, the (sampled) target parameters and the target's
//! batch-norm running statistics, each as a group.

use super::compare::{rel_err, rel_err_concat, Group};
use super::l2tww_case::{sorted_trainables, L2twwCase};
use crate::error::{Error, Result};
use crate::models::weights::WeightFile;
use crate::transfer::methods::l2tww::MetaGradient;
use std::path::Path;
use tch::{nn::VarStore, Device, Kind, Tensor};

/// The batch-norm running statistics, sorted by name.
fn sorted_buffers(vs: &VarStore) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(_, t)| !t.requires_grad())
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
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

/// Runs the case and compares meta-gradients, parameters after each iteration and the losses.
pub fn run(dir: &Path, file: &WeightFile, dev: Device) -> Result<Vec<(String, Vec<Group>)>> {
    let (case, mut opt) = L2twwCase::from_reference(dir, file, dev)?;
    let step = case.view(&opt.sgd, MetaGradient::Exact)?;
    let (target, branch_vs, phi) = (&case.target, &case.branch_vs, &case.phi);
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
        let src = case.source_features(&x);
        let (meta_grad, losses) = step.iteration(&mut opt.sgd, &mut opt.adam, &[src], &x, &y);
        let grads: Vec<(String, Tensor)> =
            phi.iter().map(|(n, _)| n.clone()).zip(meta_grad).collect();
        let p = format!("iter{k}.");
        let wnet = |v: &[(String, Tensor)]| {
            v.iter()
                .filter(|(n, _)| n.starts_with("wnet."))
                .map(|(n, t)| (n.clone(), t.shallow_clone()))
                .collect::<Vec<_>>()
        };
        let lwnet = |v: &[(String, Tensor)]| {
            v.iter()
                .filter(|(n, _)| n.starts_with("lwnet."))
                .map(|(n, t)| (n.clone(), t.shallow_clone()))
                .collect::<Vec<_>>()
        };
        let target_now = sorted_trainables(&target.vs);
        let buffers_now = sorted_buffers(&target.vs);
        let branch_now = sorted_trainables(&branch_vs);
        let mut groups = vec![
            group(
                file,
                format!("{p}grad.wnet"),
                &format!("{p}grad."),
                &wnet(&grads),
                false,
            )?,
            group(
                file,
                format!("{p}grad.lwnet"),
                &format!("{p}grad."),
                &lwnet(&grads),
                false,
            )?,
            group(
                file,
                format!("{p}after.wnet"),
                &format!("{p}after."),
                &wnet(&phi),
                false,
            )?,
            group(
                file,
                format!("{p}after.lwnet"),
                &format!("{p}after."),
                &lwnet(&phi),
                false,
            )?,
            group(
                file,
                format!("{p}after.branch"),
                &format!("{p}after."),
                &branch_now,
                false,
            )?,
            group(
                file,
                format!("{p}after.target"),
                &format!("{p}after.target."),
                &target_now,
                true,
            )?,
            group(
                file,
                format!("{p}after.buffers"),
                &format!("{p}after.buffers."),
                &buffers_now,
                false,
            )?,
        ];
        if let Some(log) = &log {
            for (key, ours) in [
                ("inner_ce", losses.inner_ce),
                ("inner_wfm", losses.inner_wfm),
                ("outer_ce", losses.outer_ce),
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
