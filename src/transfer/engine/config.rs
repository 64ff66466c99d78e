//! The optimisation settings of a training run and the learning-rate schedule: SGD with momentum
//! and weight decay, and cosine annealing as the paper ran it. The official code steps PyTorch's
//! `CosineAnnealingLR` at the start of every epoch; on PyTorch 1.0, where the paper's numbers come
//! from, that gives epoch e the rate lr·(1 + cos(πe/E))/2 — the full rate first, never zero. On
//! PyTorch ≥ 1.1 the same code skips the first value: epoch e trains at lr·(1 + cos(π(e+1)/E))/2
//! and the last epoch at 0. The first is the default (`cosine`); the second is kept as
//! `cosine-shifted`, for comparisons with the official code run on today's PyTorch.

use crate::yaml::bounds::{at_least, fraction, non_negative, positive, Checked};
use crate::yaml::FieldError;
use serde::{Deserialize, Serialize};

/// The learning-rate schedule over epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// Cosine annealing as the paper ran it (PyTorch 1.0): epoch e at lr·(1 + cos(πe/E))/2,
    /// the full rate first, never zero.
    #[default]
    Cosine,
    /// The official code on PyTorch ≥ 1.1: epoch e at lr·(1 + cos(π(e+1)/E))/2, the last epoch
    /// at zero.
    CosineShifted,
    /// A constant learning rate.
    Constant,
}

/// SGD settings and the number of epochs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct OptimConfig {
    /// Number of epochs.
    pub epochs: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// Momentum.
    pub momentum: f64,
    /// L2 weight decay.
    pub weight_decay: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// Learning-rate schedule.
    pub schedule: Schedule,
}

impl Default for OptimConfig {
    fn default() -> Self {
        OptimConfig {
            epochs: 200,
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 1e-4,
            nesterov: false,
            schedule: Schedule::Cosine,
        }
    }
}

impl OptimConfig {
    /// Checks every number before any training (the error names the field): at least one
    /// epoch, a learning rate > 0, momentum in [0, 1), weight decay ≥ 0, all finite; Nesterov
    /// momentum needs momentum.
    pub fn check(&self) -> Checked {
        at_least("epochs", self.epochs, 1)?;
        positive("lr", self.lr)?;
        fraction("momentum", self.momentum)?;
        non_negative("weight-decay", self.weight_decay)?;
        if self.nesterov && self.momentum == 0.0 {
            return Err(FieldError::at(
                &["nesterov"],
                "Nesterov momentum needs `momentum` > 0 (it is 0); set `nesterov: false` or a momentum in (0, 1)",
            ));
        }
        Ok(())
    }

    fn cosine(&self, t: f64) -> f64 {
        let e = self.epochs.max(1) as f64;
        self.lr * (1.0 + (std::f64::consts::PI * t / e).cos()) / 2.0
    }

    /// The learning rate of epoch `epoch` (0-based).
    pub fn lr_at(&self, epoch: usize) -> f64 {
        match self.schedule {
            Schedule::Constant => self.lr,
            Schedule::Cosine => self.cosine(epoch as f64),
            Schedule::CosineShifted => self.cosine(epoch as f64 + 1.0),
        }
    }
}

/// Which weights the test split is evaluated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TestEval {
    /// Once at the end, for the weights of the best validation epoch (kept in memory and in the
    /// checkpoint) and for the last epoch's: the reported numbers, a fraction of the cost.
    #[default]
    Best,
    /// After every epoch, for a per-epoch test curve.
    EveryEpoch,
}

/// Evaluation settings. Validation runs after every epoch (it chooses the reported epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct EvalConfig {
    /// When the test split is evaluated.
    pub test: TestEval,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn cfg(epochs: usize, schedule: Schedule) -> OptimConfig {
        OptimConfig {
            epochs,
            lr: 0.1,
            schedule,
            ..Default::default()
        }
    }

    #[test]
    fn every_number_is_checked_with_its_field() {
        assert!(OptimConfig::default().check().is_ok());
        let bad = |o: OptimConfig| o.check().unwrap_err().path.join(".");
        let d = OptimConfig::default;
        assert_eq!(bad(OptimConfig { epochs: 0, ..d() }), "epochs");
        assert_eq!(bad(OptimConfig { lr: -0.05, ..d() }), "lr");
        assert_eq!(
            bad(OptimConfig {
                lr: f64::NAN,
                ..d()
            }),
            "lr"
        );
        assert_eq!(
            bad(OptimConfig {
                momentum: 1.0,
                ..d()
            }),
            "momentum"
        );
        assert_eq!(
            bad(OptimConfig {
                weight_decay: -1.0,
                ..d()
            }),
            "weight-decay"
        );
        let no_momentum = OptimConfig {
            momentum: 0.0,
            nesterov: true,
            ..d()
        };
        assert_eq!(bad(no_momentum), "nesterov");
    }

    #[test]
    fn the_default_cosine_starts_at_the_full_rate_and_never_reaches_zero() {
        let c = cfg(4, Schedule::default());
        assert_eq!(c.lr_at(0), 0.1);
        assert!((c.lr_at(1) - 0.1 * (1.0 + (PI / 4.0).cos()) / 2.0).abs() < 1e-15);
        assert!((c.lr_at(2) - 0.05).abs() < 1e-15);
        assert!((c.lr_at(3) - 0.1 * (1.0 + (3.0 * PI / 4.0).cos()) / 2.0).abs() < 1e-15);
        assert!(c.lr_at(3) > 0.01);
    }

    #[test]
    fn a_one_epoch_run_trains_at_the_configured_rate() {
        assert_eq!(cfg(1, Schedule::Cosine).lr_at(0), 0.1);
        assert_eq!(cfg(1, Schedule::CosineShifted).lr_at(0), 0.0);
    }

    #[test]
    fn the_shifted_cosine_skips_the_first_value_and_ends_at_zero() {
        let c = cfg(4, Schedule::CosineShifted);
        assert!((c.lr_at(0) - 0.1 * (1.0 + (PI / 4.0).cos()) / 2.0).abs() < 1e-15);
        assert!((c.lr_at(1) - 0.05).abs() < 1e-15);
        assert!(c.lr_at(3).abs() < 1e-15);
        assert_eq!(cfg(4, Schedule::Constant).lr_at(3), 0.1);
    }

    #[test]
    fn schedules_read_from_their_kebab_case_names() {
        for (name, s) in [
            ("cosine", Schedule::Cosine),
            ("cosine-shifted", Schedule::CosineShifted),
            ("constant", Schedule::Constant),
        ] {
            let c: OptimConfig = serde_yaml_ng::from_str(&format!("schedule: {name}")).unwrap();
            assert_eq!(c.schedule, s);
        }
    }
}
