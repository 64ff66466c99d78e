//! How close the cheaper meta-gradient modes come to the exact one, in float64 on the reference
//! networks (`l2tww bench fidelity DIR`): at each iteration of a case, after the same live step,
//! the exact and the first-order meta-gradients are computed from the same state (the target's
//! batch-norm statistics put back in between) and compared by cosine similarity and relative
//! error ‖first-order − exact‖ / ‖exact‖; on the reference case the exact one is also compared
//! with the official code's. The case then goes on with the exact meta-gradient, so later
//! iterations see states the official loop reaches.

use crate::error::Result;
use crate::models::weights::WeightFile;
use crate::transfer::conformance::l2tww_case::{Generated, L2twwCase, Optimizers};
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

/// One iteration: the live step, the meta-gradient in each mode from the same state, Adam on
/// the exact one. Returns (exact, first-order).
fn iterate(
    case: &L2twwCase,
    opt: &mut Optimizers,
    x: &Tensor,
    y: &Tensor,
) -> Result<(Vec<Tensor>, Vec<Tensor>)> {
    let src = [case.source_features(x)];
    let exact = case.view(&opt.sgd, MetaGradient::Exact)?;
    exact.live_step(&mut opt.sgd, &src, x, y);
    let saved: Vec<Tensor> = case.buffers.iter().map(|b| b.detach().copy()).collect();
    let first_order = case.view(&opt.sgd, MetaGradient::FirstOrder)?;
    let (fo, _) = first_order.meta_gradient(&opt.sgd, &src, x, y);
    tch::no_grad(|| {
        for (b, s) in case.buffers.iter().zip(&saved) {
            b.shallow_clone().copy_(s);
        }
    });
    let (ex, _) = exact.meta_gradient(&opt.sgd, &src, x, y);
    opt.adam.step(&ex);
    Ok((ex, fo))
}

/// The modes against the exact meta-gradient and the official one on the reference case.
pub fn reference(dir: &Path, file: &WeightFile) -> Result<Vec<Fidelity>> {
    let (case, mut opt) = L2twwCase::from_reference(dir, file, tch::Device::Cpu)?;
    let mut out = Vec::new();
    for k in 0.. {
        let Ok(x) = file.get(&format!("iter{k}.x")) else {
            break;
        };
        let x = x.to_kind(Kind::Double);
        let y = file.get(&format!("iter{k}.y"))?.to_kind(Kind::Int64);
        let (ex, fo) = iterate(&case, &mut opt, &x, &y)?;
        let official: Vec<Tensor> = case
            .phi
            .iter()
            .map(|(n, _)| {
                file.get(&format!("iter{k}.grad.{n}"))
                    .map(|t| t.shallow_clone())
            })
            .collect::<Result<_>>()?;
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
    let (case, mut opt) = L2twwCase::generated(dir, case_file, g)?;
    let name = format!(
        "pairs {} T {} batch {} seed {}",
        g.pairs, g.lookahead, g.batch, g.seed
    );
    let mut out = Vec::new();
    for k in 0..iterations {
        let (x, y) = case.random_batch(g.batch);
        let (ex, fo) = iterate(&case, &mut opt, &x, &y)?;
        let (cosine, rel_err) = compare(&fo, &ex);
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
