//! `metasgd_toy`: the official toy test of the meta-optimizer. Parameters v1, v2 and the
//! meta-parameter λ; `steps` SGD steps on mean(v1²) + sum(λ·v2²); the gradient of mean(v1·v2)
//! with respect to λ through all of them. Step count and SGD settings come from the metadata.

use super::compare::{rel_err, Group};
use super::meta_value;
use crate::error::Result;
use crate::models::weights::WeightFile;
use crate::transfer::meta::{grads_or_zero, Sgd, SgdConfig};
use tch::{Device, Kind, Tensor};

/// Runs the case and compares `lambda.grad`.
pub fn run(file: &WeightFile, dev: Device) -> Result<Vec<(String, Vec<Group>)>> {
    let leaf = |name: &str| -> Result<Tensor> {
        Ok(file
            .get(name)?
            .to_kind(Kind::Double)
            .to_device(dev)
            .detach()
            .set_requires_grad(true))
    };
    let (v1, v2, lambda) = (leaf("v1")?, leaf("v2")?, leaf("lambda")?);
    let cfg = SgdConfig {
        lr: meta_value(file, "lr")?,
        momentum: meta_value(file, "momentum")?,
        weight_decay: meta_value(file, "weight_decay")?,
        nesterov: false,
    };
    let steps = meta_value(file, "steps")? as usize;
    let inner = |v: &[Tensor]| {
        v[0].square().mean(Kind::Double) + (&lambda * v[1].square()).sum(Kind::Double)
    };
    let sgd = Sgd::new(vec![v1.shallow_clone(), v2.shallow_clone()], cfg);
    // Each step writes into fresh leaves, so every step's graph stays valid.
    let sets: Vec<Vec<Tensor>> = std::iter::once(vec![v1, v2])
        .chain((0..steps).map(|_| {
            sgd.params()
                .iter()
                .map(|p| p.detach().zeros_like().set_requires_grad(true))
                .collect()
        }))
        .collect();
    let mut bufs: Vec<Option<Tensor>> = sgd.buffers().iter().map(|_| None).collect();
    let mut recorded = Vec::new();
    for k in 0..steps {
        let (step, next) = sgd.graph_step_into(&inner(&sets[k]), &sets[k], &bufs, &sets[k + 1]);
        recorded.push(step);
        bufs = next;
    }
    let last = &sets[steps];
    let outer = (&last[0] * &last[1]).mean(Kind::Double);
    let a0 = grads_or_zero(&outer, last, false);
    let grad = sgd.meta_backward(recorded, a0, std::slice::from_ref(&lambda));
    Ok(vec![(
        String::new(),
        vec![Group {
            name: "lambda.grad".into(),
            rel_err: rel_err(&grad[0], file.get("lambda.grad")?),
        }],
    )])
}
