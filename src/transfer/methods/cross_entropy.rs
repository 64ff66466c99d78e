//! Cross-entropy in the logits' own precision. (tch's `cross_entropy_for_logits` casts to
//! float32, which silently breaks float64 runs.)

use tch::Tensor;

/// Mean cross-entropy of `logits` (batch, classes) against class indices `targets`.
pub fn cross_entropy(logits: &Tensor, targets: &Tensor) -> Tensor {
    logits.log_softmax(-1, logits.kind()).nll_loss(targets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    #[test]
    fn float64_logits_give_a_float64_loss_equal_to_the_definition() {
        let logits = Tensor::from_slice(&[1.0f64, 2.0, 0.5, -1.0, 0.0, 3.0]).view([2, 3]);
        let y = Tensor::from_slice(&[1i64, 2]);
        let ce = cross_entropy(&logits, &y);
        assert_eq!(ce.kind(), Kind::Double);
        let manual = {
            let a = (1f64.exp() + 2f64.exp() + 0.5f64.exp()).ln() - 2.0;
            let b = ((-1f64).exp() + 1.0 + 3f64.exp()).ln() - 3.0;
            (a + b) / 2.0
        };
        assert!((f64::try_from(ce).unwrap() - manual).abs() < 1e-15);
    }
}
