//! Relative L2 error between our tensors and the reference, the measure the reference README
//! prescribes: ‖ours − ref‖ / ‖ref‖, computed in float64.

use tch::{Kind, Tensor};

/// One compared group: a name and its relative error.
#[derive(Debug, Clone)]
pub struct Group {
    /// What was compared (e.g. `feature.4`, `iter0.grad.wnet`).
    pub name: String,
    /// ‖ours − ref‖ / ‖ref‖ (‖ours‖ when the reference is all zeros).
    pub rel_err: f64,
}

/// Relative L2 error of `ours` against `reference`, both flattened to float64. A shape
/// mismatch or a non-finite value gives infinity, which fails any tolerance.
pub fn rel_err(ours: &Tensor, reference: &Tensor) -> f64 {
    if ours.size() != reference.size() {
        return f64::INFINITY;
    }
    let o = ours
        .detach()
        .to_device(tch::Device::Cpu)
        .to_kind(Kind::Double);
    let r = reference
        .detach()
        .to_device(tch::Device::Cpu)
        .to_kind(Kind::Double);
    let diff = f64::try_from((&o - &r).norm()).unwrap_or(f64::INFINITY);
    let base = f64::try_from(r.norm()).unwrap_or(f64::INFINITY);
    let e = if base > 0.0 { diff / base } else { diff };
    if e.is_finite() {
        e
    } else {
        f64::INFINITY
    }
}

/// Relative error of several tensors taken together, as one concatenated vector.
pub fn rel_err_concat(ours: &[Tensor], reference: &[Tensor]) -> f64 {
    if ours.len() != reference.len() || ours.is_empty() {
        return f64::INFINITY;
    }
    if ours
        .iter()
        .zip(reference)
        .any(|(a, b)| a.size() != b.size())
    {
        return f64::INFINITY;
    }
    let flat = |ts: &[Tensor]| {
        Tensor::cat(
            &ts.iter()
                .map(|t| t.detach().to_kind(Kind::Double).flatten(0, -1))
                .collect::<Vec<_>>(),
            0,
        )
    };
    rel_err(&flat(ours), &flat(reference))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_tensors_have_zero_error_and_a_perturbation_is_measured() {
        let a = Tensor::from_slice(&[3.0f64, 4.0]);
        assert_eq!(rel_err(&a, &a), 0.0);
        let b = Tensor::from_slice(&[3.0f64, 4.5]);
        assert!((rel_err(&b, &a) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn shape_mismatch_and_nan_fail_every_tolerance() {
        let a = Tensor::from_slice(&[1.0f64, 2.0]);
        assert!(rel_err(&Tensor::from_slice(&[1.0f64]), &a).is_infinite());
        assert!(rel_err(&Tensor::from_slice(&[f64::NAN, 2.0]), &a).is_infinite());
    }
}
