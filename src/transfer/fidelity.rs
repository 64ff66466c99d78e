//! How close the cheaper meta-gradient modes come to the exact one, in float64 on the reference
//! networks (`l2tww bench fidelity DIR`): at each iteration of a case, run as training runs it
//! (`L2twwCase`: the engine's `train_step` with `L2t`), the first-order meta-gradient is computed
//! from the state the live step left, just before L2T's own meta step computes the exact one
//! from the same state (the target's batch-norm statistics put back in between), and the two are
//! compared by cosine similarity and relative error ‖first-order − exact‖ / ‖exact‖; on the
//! reference case the exact one is also compared with the official code's. The case goes on with
//! the exact meta-gradient, so later iterations see states the official loop reaches.

use crate::error::Result;
use crate::models::weights::WeightFile;
use crate::transfer::conformance::l2tww_case::{official_name, Generated, L2twwCase};
use crate::transfer::engine::step::train_step;
use crate::transfer::engine::{AfterStep, Method, StepContext};
use crate::transfer::methods::l2t::L2t;
use crate::transfer::methods::l2tww::MetaGradient;
use serde::Serialize;
use std::path::Path;
use tch::{Kind, Tensor};

/// One comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Fidelity {
    /// The case: `reference` or the generated case's pairs, T, batch and seed.
    pub case: String,
    /// The iteration (0-based).
    pub iteration: usize,
    /// The cheaper mode.
    pub mode: MetaGradient,
    /// Cosine similarity with the exact meta-gradient.
    pub cosine: f64,
    /// ‖mode − exact‖ / ‖exact‖.
    pub rel_err: f64,
    /// ‖exact − official‖ / ‖official‖ (reference case only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_vs_official: Option<f64>,
}

fn dot(a: &[Tensor], b: &[Tensor]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(a, b)| f64::try_from((a * b).sum(Kind::Double)).unwrap_or(f64::NAN))
        .sum()
}

/// Cosine similarity and relative error of `a` against `b` (concatenated).
pub fn compare(a: &[Tensor], b: &[Tensor]) -> (f64, f64) {
    let diff: Vec<Tensor> = a.iter().zip(b).map(|(a, b)| a - b).collect();
    let (ab, aa, bb) = (dot(a, b), dot(a, a), dot(b, b));
    (
        ab / (aa.sqrt() * bb.sqrt()),
        (dot(&diff, &diff) / bb).sqrt(),
    )
}

/// L2T with a look at its meta step: before L2T's own (exact) meta step, the meta-gradient of
/// the probed mode from the same state, the batch-norm statistics put back after it. Everything
/// else is L2T's.
struct Probe<'a> {
    l2t: &'a mut L2t,
    mode: MetaGradient,
    seen: Option<Vec<Tensor>>,
}

impl Method for Probe<'_> {
    fn name(&self) -> &str {
        self.l2t.name()
    }

    fn trained_params(&self) -> Vec<(String, Tensor)> {
        self.l2t.trained_params()
    }

    fn terms(&self, ctx: &StepContext) -> Vec<(String, Tensor)> {
        self.l2t.terms(ctx)
    }

    fn after_step(&mut self, step: AfterStep) -> Result<()> {
        let saved: Vec<Tensor> = step.buffers.iter().map(|b| b.detach().copy()).collect();
        let (grad, _) = self.l2t.meta_gradient(&step, self.mode)?;
        tch::no_grad(|| {
            for (b, s) in step.buffers.iter().zip(&saved) {
                b.shallow_clone().copy_(s);
            }
        });
        self.seen = Some(grad);
        self.l2t.after_step(step)
    }
}

/// The exact meta-gradient by the reference's names, and the first-order one (same order).
type Gradients = (Vec<(String, Tensor)>, Vec<Tensor>);

/// Iteration `k` on (`x`, `y`), as training runs it. Returns the exact meta-gradient L2T
/// stepped with and the first-order one from the same state, both by the reference's names.
fn iterate(case: &mut L2twwCase, x: &Tensor, y: &Tensor, k: usize) -> Result<Gradients> {
    let mut probe = Probe {
        l2t: &mut case.method,
        mode: MetaGradient::FirstOrder,
        seen: None,
    };
    let batch = L2twwCase::batch(x, y);
    train_step(
        &case.target,
        &case.sources,
        &mut probe,
        &mut case.sgd,
        &batch,
        0,
        k,
    )?;
    let first_order = probe.seen.take();
    let exact = case.method.last_meta_step();
    match (exact, first_order) {
        (Some(ex), Some(fo)) => Ok((
            ex.grad
                .iter()
                .map(|(n, t)| (official_name(n).to_string(), t.shallow_clone()))
                .collect(),
            fo,
        )),
        _ => Err(crate::error::Error::Invalid(format!(
            "iteration {k} took no meta step"
        ))),
    }
}

/// The exact meta-gradient's tensors without their names.
fn tensors(named: &[(String, Tensor)]) -> Vec<Tensor> {
    named.iter().map(|(_, t)| t.shallow_clone()).collect()
}

/// The modes against the exact meta-gradient and the official one on the reference case.
pub fn reference(dir: &Path, file: &WeightFile) -> Result<Vec<Fidelity>> {
    let mut case = L2twwCase::from_reference(dir, file, tch::Device::Cpu)?;
    let mut out = Vec::new();
    for k in 0.. {
        let Ok(x) = file.get(&format!("iter{k}.x")) else {
            break;
        };
        let x = x.to_kind(Kind::Double);
        let y = file.get(&format!("iter{k}.y"))?.to_kind(Kind::Int64);
        let (named, fo) = iterate(&mut case, &x, &y, k)?;
        let official: Vec<Tensor> = named
            .iter()
            .map(|(n, _)| {
                file.get(&format!("iter{k}.grad.{n}"))
                    .map(|t| t.shallow_clone())
            })
            .collect::<Result<_>>()?;
        let ex = tensors(&named);
        let (cosine, rel_err) = compare(&fo, &ex);
        out.push(Fidelity {
            case: "reference".into(),
            iteration: k,
            mode: MetaGradient::FirstOrder,
            cosine,
            rel_err,
            exact_vs_official: Some(compare(&ex, &official).1),
        });
    }
    Ok(out)
}

/// The modes against the exact meta-gradient on a generated case, over `iterations` batches.
pub fn generated(
    dir: &Path,
    case_file: &Path,
    g: &Generated,
    iterations: usize,
) -> Result<Vec<Fidelity>> {
    let mut case = L2twwCase::generated(dir, case_file, g)?;
    let name = format!(
        "pairs {} T {} batch {} seed {}",
        g.pairs, g.lookahead, g.batch, g.seed
    );
    let mut out = Vec::new();
    for k in 0..iterations {
        let (x, y) = case.random_batch(g.batch);
        let (named, fo) = iterate(&mut case, &x, &y, k)?;
        let (cosine, rel_err) = compare(&fo, &tensors(&named));
        out.push(Fidelity {
            case: name.clone(),
            iteration: k,
            mode: MetaGradient::FirstOrder,
            cosine,
            rel_err,
            exact_vs_official: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_gradients_have_cosine_one_and_no_error() {
        let a = vec![
            Tensor::from_slice(&[1.0f64, 2.0]),
            Tensor::from_slice(&[3.0f64]),
        ];
        let (c, e) = compare(&a, &a);
        assert!((c - 1.0).abs() < 1e-12 && e == 0.0);
        let b = vec![
            Tensor::from_slice(&[-1.0f64, -2.0]),
            Tensor::from_slice(&[-3.0f64]),
        ];
        let (c, e) = compare(&a, &b);
        assert!((c + 1.0).abs() < 1e-12 && (e - 2.0).abs() < 1e-12);
    }
}
