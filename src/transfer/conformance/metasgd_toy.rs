//! `metasgd_toy`: the official toy test of the meta-optimizer. Parameters v1, v2 and the
//! meta-parameter λ; `steps` SGD steps on mean(v1²) + sum(λ·v2²); the gradient of mean(v1·v2)
//! with respect to λ through all of them. Step count and SGD settings come from the metadata.

use super::compare::{rel_err, Group};
use super::meta_value;
use crate::error::Result;
use crate::models::weights::WeightFile;
use crate::transfer::meta::{grads_or_zero, Sgd, SgdConfig};
use tch::{Kind, Tensor};

/// Runs the case and compares `lambda.grad`.
pub fn run(file: &WeightFile) -> Result<Vec<(String, Vec<Group>)>> {
    let leaf = |name: &str| -> Result<Tensor> {
        Ok(file
            .get(name)?
            .to_kind(Kind::Double)
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
    let inner = || v1.square().mean(Kind::Double) + (&lambda * v2.square()).sum(Kind::Double);
    let mut sgd = Sgd::new(vec![v1.shallow_clone(), v2.shallow_clone()], cfg);
    let mut tape = sgd.begin_lookahead();
    for _ in 0..steps {
        let g = grads_or_zero(&inner(), sgd.params(), false);
        sgd.record_step(&mut tape, (), &g);
    }
    let outer = (&v1 * &v2).mean(Kind::Double);
    let a0 = grads_or_zero(&outer, sgd.params(), false);
    let grad = sgd.meta_backward(&tape, a0, std::slice::from_ref(&lambda), |_| inner());
    Ok(vec![(
        String::new(),
        vec![Group {
            name: "lambda.grad".into(),
            rel_err: rel_err(&grad[0], file.get("lambda.grad")?),
        }],
    )])
}
