//! `l2tww_two_iterations`: iterations of L2T-ww exactly as the official loop runs them, from the
//! stored initial branch and meta-network weights, the source checkpoint (eval mode) and the
//! VGG9-bn target weights, in float64. Pairs, T, β, learning rates, weight decays, the λ
//! activation and its initialisation come from the metadata; the number of iterations and the
//! batches from the `iter{k}.*` tensors. Compared after each iteration: the meta-gradients, the
//! meta-networks after Adam, the 1×1 convs, the (sampled) target parameters and the target's
//! batch-norm running statistics, each as a group.

use super::compare::{rel_err, rel_err_concat, Group};
use super::features::RESNET_CHECKPOINT;
use super::meta_value;
use crate::error::{Error, Result};
use crate::models::weights::{load_named, WeightFile};
use crate::models::{Arch, Model};
use crate::transfer::meta::{Adam, AdamConfig, Sgd, SgdConfig};
use crate::transfer::methods::feature_matching::FeatureMatching;
use crate::transfer::methods::l2tww::{L2tww, L2twwConfig, Lookahead, SourceTerm};
use crate::transfer::methods::meta_networks::{LambdaActivation, MetaNetworks};
use crate::transfer::methods::pairs::{check_pairs, parse_pairs};
use crate::transfer::methods::replica::Replica;
use std::path::Path;
use tch::{nn::VarStore, Device, Kind, Tensor};

/// The file holding the target's initial weights.
const TARGET_WEIGHTS: &str = "vgg9bn_features.safetensors";

fn sorted_trainables(vs: &VarStore) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(_, t)| t.requires_grad())
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

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
pub fn run(dir: &Path, file: &WeightFile) -> Result<Vec<(String, Vec<Group>)>> {
    let (dev, kind) = (Device::Cpu, Kind::Double);
    let need = |name: &str| {
        let p = dir.join(name);
        if p.exists() {
            Ok(p)
        } else {
            Err(Error::bad_file(
                &file.path,
                format!("this case needs {}", p.display()),
            ))
        }
    };
    let source = Model::from_checkpoint(&need(RESNET_CHECKPOINT)?, dev, kind)?;
    let target_file = WeightFile::read(&need(TARGET_WEIGHTS)?)?;
    let target_weights: Vec<(String, Tensor)> = target_file
        .tensors
        .iter()
        .filter(|(k, _)| k != "input" && !k.starts_with("eval.") && !k.starts_with("train."))
        .map(|(k, t)| (k.clone(), t.shallow_clone()))
        .collect();
    let (arch, classes) = Arch::infer(&target_weights)
        .map_err(|e| Error::bad_file(&target_file.path, e.to_string()))?;
    let target = Model::new(arch, classes, dev, kind)?;
    load_named(
        &target.vs,
        &target_weights,
        &target_file.path,
        &arch.to_string(),
    )?;

    let pairs = parse_pairs(file.meta("pairs")?)?;
    check_pairs(&pairs, source.net.taps(), target.net.taps())?;
    let activation: LambdaActivation = file.meta("loss_weight_type")?.parse()?;
    let mut branch_vs = VarStore::new(dev);
    let matching = FeatureMatching::new(
        &(branch_vs.root() / "branch"),
        source.net.taps(),
        target.net.taps(),
        &pairs,
    );
    branch_vs.set_kind(kind);
    let mut meta_vs = VarStore::new(dev);
    let meta = MetaNetworks::new(
        &meta_vs.root(),
        source.net.taps(),
        &pairs,
        Some(activation),
        meta_value(file, "loss_weight_init")?,
    );
    meta_vs.set_kind(kind);
    let init = file.with_prefix("init.");
    let (branch_init, meta_init): (Vec<_>, Vec<_>) = init
        .into_iter()
        .partition(|(k, _)| k.starts_with("branch."));
    load_named(&branch_vs, &branch_init, &file.path, "branch")?;
    load_named(&meta_vs, &meta_init, &file.path, "meta-networks")?;

    let theta: Vec<(String, Tensor)> = sorted_trainables(&target.vs)
        .into_iter()
        .chain(sorted_trainables(&branch_vs))
        .collect();
    let phi = sorted_trainables(&meta_vs);
    let sgd_cfg = SgdConfig {
        lr: meta_value(file, "lr")?,
        momentum: meta_value(file, "momentum")?,
        weight_decay: meta_value(file, "wd")?,
        nesterov: false,
    };
    let mut sgd = Sgd::new(
        theta.iter().map(|(_, t)| t.shallow_clone()).collect(),
        sgd_cfg,
    );
    let phi_params: Vec<Tensor> = phi.iter().map(|(_, t)| t.shallow_clone()).collect();
    let mut adam = Adam::new(
        phi_params.iter().map(Tensor::shallow_clone).collect(),
        AdamConfig::new(meta_value(file, "meta_lr")?, meta_value(file, "meta_wd")?),
    );
    let target_buffers: Vec<Tensor> = target
        .vs
        .variables()
        .into_values()
        .filter(|t| !t.requires_grad())
        .collect();
    let lookahead_steps = meta_value(file, "T")? as usize;
    let replicas = (0..=lookahead_steps)
        .map(|_| Replica::of_model(&target, &[&matching], &[&branch_vs]))
        .collect::<Result<Vec<_>>>()?;
    let step = L2tww {
        target: target.net.as_ref(),
        terms: vec![SourceTerm {
            matching: &matching,
            meta: &meta,
        }],
        meta_params: &phi_params,
        buffers: &target_buffers,
        lookahead: replicas
            .iter()
            .map(|r| {
                Ok(Lookahead {
                    replica: r,
                    params: r.aligned(sgd.params())?,
                })
            })
            .collect::<Result<_>>()?,
        cfg: L2twwConfig {
            beta: meta_value(file, "beta")?,
            lookahead: lookahead_steps,
        },
    };
    let log: Option<serde_json::Value> = file
        .metadata
        .get("log")
        .and_then(|s| serde_json::from_str(s).ok());
    let mut results = Vec::new();
    for k in 0.. {
        let Ok(x) = file.get(&format!("iter{k}.x")) else {
            break;
        };
        let x = x.to_kind(kind);
        let y = file.get(&format!("iter{k}.y"))?.to_kind(Kind::Int64);
        let src = tch::no_grad(|| source.net.forward_t(&x, false)).features;
        let (meta_grad, losses) = step.iteration(&mut sgd, &mut adam, &[src], &x, &y);
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
