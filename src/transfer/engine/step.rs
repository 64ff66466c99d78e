//! One training step, shared by the loop and the benchmark: the sources' forward passes (once,
//! without graph), the target's forward pass, cross-entropy plus the method's terms (each checked
//! to be finite), one SGD step over the target's and the method's parameters, then the method's
//! after-step hook.

use super::batches::Batch;
use super::config::OptimConfig;
use super::method::{AfterStep, Method, StepContext};
use crate::error::{Error, Result};
use crate::models::{Forward, Model};
use crate::transfer::meta::{grads_or_zero, Sgd, SgdConfig};
use crate::transfer::methods::cross_entropy::cross_entropy;
use crate::transfer::phases::phase;
use tch::{Kind, Tensor};

/// What one step measured.
pub struct StepOutcome {
    /// The total loss.
    pub loss: f64,
    /// Each term's value (`ce` first).
    pub terms: Vec<(String, f64)>,
    /// Correct predictions in the batch.
    pub correct: i64,
    /// Samples in the batch.
    pub seen: i64,
}

/// The SGD optimizer over a run's parameters: the target's trainable variables, then the
/// method's, each sorted by name (the order checkpoints rely on).
pub fn optimizer_for(target: &Model, method: &dyn Method, optim: &OptimConfig) -> Sgd {
    let mut theta: Vec<(String, Tensor)> = target
        .vs
        .variables()
        .into_iter()
        .filter(|(_, t)| t.requires_grad())
        .collect();
    theta.sort_by(|a, b| a.0.cmp(&b.0));
    let mut extra = method.trained_params();
    extra.sort_by(|a, b| a.0.cmp(&b.0));
    theta.extend(extra);
    let cfg = SgdConfig {
        lr: optim.lr,
        momentum: optim.momentum,
        weight_decay: optim.weight_decay,
        nesterov: optim.nesterov,
    };
    Sgd::new(theta.into_iter().map(|(_, t)| t).collect(), cfg)
}

/// The sources' forward passes in eval mode, without graph.
pub fn forward_sources(sources: &[Model], x: &Tensor) -> Vec<Forward> {
    tch::no_grad(|| sources.iter().map(|s| s.net.forward_t(x, false)).collect())
}

/// Correct predictions and batch size.
pub fn accuracy(logits: &Tensor, y: &Tensor) -> (i64, i64) {
    let correct = logits.argmax(-1, false).eq_tensor(y).sum(Kind::Int64);
    (i64::try_from(correct).unwrap_or(0), y.size()[0])
}

/// Runs one training step on batch `b` (`epoch` and `iteration` name it in errors).
pub fn train_step(
    target: &Model,
    sources: &[Model],
    method: &mut dyn Method,
    sgd: &mut Sgd,
    b: &Batch,
    epoch: usize,
    iteration: usize,
) -> Result<StepOutcome> {
    let src = phase(
        || "sources' forward".into(),
        || forward_sources(sources, &b.x),
    );
    let live = || -> Result<(Forward, Vec<(String, f64)>)> {
        let out = target.net.forward_t(&b.x, true);
        let mut terms = vec![("ce".to_string(), cross_entropy(&out.logits, &b.y))];
        let ctx = StepContext {
            x: &b.x,
            y: &b.y,
            idx: &b.idx,
            target: &out,
            sources: &src,
        };
        terms.extend(method.terms(&ctx));
        let mut values = Vec::with_capacity(terms.len());
        let mut loss: Option<Tensor> = None;
        for (name, t) in terms {
            let v = f64::try_from(&t)?;
            if !v.is_finite() {
                return Err(Error::NonFinite {
                    epoch: epoch + 1,
                    iteration: iteration + 1,
                    term: name,
                    value: v,
                });
            }
            values.push((name, v));
            loss = Some(match loss {
                None => t,
                Some(l) => l + t,
            });
        }
        let loss = loss.expect("the cross-entropy term");
        let grads = grads_or_zero(&loss, sgd.params(), false);
        sgd.step(&grads);
        Ok((out, values))
    };
    let (out, values) = phase(|| "live step (forward, backward, SGD)".into(), live)?;
    let feats: Vec<Vec<Tensor>> = src.into_iter().map(|f| f.features).collect();
    let mut buffers: Vec<(String, Tensor)> = target
        .vs
        .variables()
        .into_iter()
        .filter(|(_, t)| !t.requires_grad())
        .collect();
    buffers.sort_by(|a, b| a.0.cmp(&b.0));
    let buffers: Vec<Tensor> = buffers.into_iter().map(|(_, t)| t).collect();
    method.after_step(AfterStep {
        sgd,
        target: target.net.as_ref(),
        buffers: &buffers,
        sources: &feats,
        x: &b.x,
        y: &b.y,
    })?;
    let (correct, seen) = accuracy(&out.logits.detach(), &b.y);
    Ok(StepOutcome {
        loss: values.iter().map(|(_, v)| v).sum(),
        terms: values,
        correct,
        seen,
    })
}
