//! The optimisation settings of a training run and the learning-rate schedule, as the official
//! code has them: SGD with momentum and weight decay, cosine annealing stepped at the start of
//! every epoch (so epoch e trains at lr·(1 + cos(π(e+1)/E))/2).

use serde::{Deserialize, Serialize};

/// The learning-rate schedule over epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// Cosine annealing to zero, stepped at each epoch's start (the official code).
    #[default]
    Cosine,
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
    /// The learning rate of epoch `epoch` (0-based).
    pub fn lr_at(&self, epoch: usize) -> f64 {
        match self.schedule {
            Schedule::Constant => self.lr,
            Schedule::Cosine => {
                let e = self.epochs.max(1) as f64;
                self.lr * (1.0 + (std::f64::consts::PI * (epoch as f64 + 1.0) / e).cos()) / 2.0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_is_stepped_before_each_epoch_and_reaches_zero_at_the_last() {
        let cfg = OptimConfig {
            epochs: 4,
            lr: 0.1,
            ..Default::default()
        };
        assert!(
            (cfg.lr_at(0) - 0.1 * (1.0 + (std::f64::consts::PI / 4.0).cos()) / 2.0).abs() < 1e-15
        );
        assert!((cfg.lr_at(1) - 0.05).abs() < 1e-15);
        assert!(cfg.lr_at(3).abs() < 1e-15);
        let constant = OptimConfig {
            schedule: Schedule::Constant,
            ..cfg
        };
        assert_eq!(constant.lr_at(3), 0.1);
    }
}
