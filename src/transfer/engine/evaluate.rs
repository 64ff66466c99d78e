//! Evaluation passes of the loop: accuracy of the target on a split (eval mode, no graph), the
//! method's statistics over a split (the sources' features of each batch, for L2T's λ and w),
//! and the target's state kept at the best validation epoch so that the test split is evaluated
//! once, at the end, for the weights the result reports.

use super::batches::BatchSource;
use super::method::Method;
use super::step::{accuracy, forward_sources};
use crate::error::Result;
use crate::models::Model;
use std::collections::BTreeMap;
use tch::Tensor;

/// Accuracy (%) of `target` on `data`; with `observe`, the method also sees the sources'
/// features of every batch (`Method::observe_eval`).
pub fn accuracy_on(
    target: &Model,
    sources: &[Model],
    method: &mut dyn Method,
    data: &dyn BatchSource,
    observe: bool,
) -> Result<f64> {
    let (mut correct, mut total) = (0i64, 0i64);
    for batch in data.batches(0) {
        let b = batch?;
        let logits = tch::no_grad(|| target.net.logits_t(&b.x, false));
        let (c, t) = accuracy(&logits, &b.y);
        correct += c;
        total += t;
        if observe {
            observe_batch(sources, method, &b.x);
        }
    }
    Ok(if total > 0 {
        100.0 * correct as f64 / total as f64
    } else {
        0.0
    })
}

fn observe_batch(sources: &[Model], method: &mut dyn Method, x: &Tensor) {
    let feats: Vec<Vec<Tensor>> = forward_sources(sources, x)
        .into_iter()
        .map(|f| f.features)
        .collect();
    tch::no_grad(|| method.observe_eval(&feats));
}

/// The method's statistics over `data` without touching the target (before training).
pub fn method_stats_on(
    sources: &[Model],
    method: &mut dyn Method,
    data: &dyn BatchSource,
) -> Result<BTreeMap<String, f64>> {
    for batch in data.batches(0) {
        observe_batch(sources, method, &batch?.x);
    }
    Ok(method.take_eval_stats().into_iter().collect())
}

/// A copy of every variable of the target (parameters and batch-norm statistics), by name.
#[derive(Debug)]
pub struct Snapshot {
    /// The variables.
    pub vars: Vec<(String, Tensor)>,
}

impl Snapshot {
    /// Copies the target's variables.
    pub fn of(target: &Model) -> Self {
        let mut vars: Vec<(String, Tensor)> = target
            .vs
            .variables()
            .into_iter()
            .map(|(n, t)| (n, t.detach().copy()))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        Snapshot { vars }
    }

    /// Writes the copied values back into the target.
    pub fn restore(&self, target: &Model) {
        let live = target.vs.variables();
        tch::no_grad(|| {
            for (n, t) in &self.vars {
                if let Some(v) = live.get(n) {
                    v.shallow_clone().copy_(t);
                }
            }
        });
    }

    /// Accuracy (%) on `data` with these weights; the target's own are put back afterwards.
    pub fn accuracy_on(
        &self,
        target: &Model,
        sources: &[Model],
        method: &mut dyn Method,
        data: &dyn BatchSource,
    ) -> Result<f64> {
        let own = Snapshot::of(target);
        self.restore(target);
        let acc = accuracy_on(target, sources, method, data, false);
        own.restore(target);
        acc
    }
}
