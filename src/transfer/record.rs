//! What a training run records: one row per epoch (losses, accuracies, learning rate, λ and the
//! entropy of w per pair) and the run's summary — the test accuracy at the best validation epoch,
//! as the official logs report it — with the seed and the versions that produced it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One epoch of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number (0-based).
    pub epoch: usize,
    /// Learning rate of the epoch.
    pub lr: f64,
    /// Mean training loss (cross-entropy plus the method's terms).
    pub train_loss: f64,
    /// Training accuracy (%, on the augmented batches).
    pub train_acc: f64,
    /// Validation accuracy (%).
    pub val_acc: f64,
    /// Test accuracy (%).
    pub test_acc: f64,
    /// Wall time of the epoch (s).
    pub seconds: f64,
    /// Mean of each loss term over the epoch (`ce`, `wfm`, …).
    pub terms: BTreeMap<String, f64>,
    /// Method statistics over the validation set (`lambda.i`, `entropy.i` per pair).
    pub stats: BTreeMap<String, f64>,
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The method's name.
    pub method: String,
    /// Seed of the run.
    pub seed: u64,
    /// Epoch with the best validation accuracy (the first of equals).
    pub best_epoch: usize,
    /// Best validation accuracy (%).
    pub best_val_acc: f64,
    /// Test accuracy at the best validation epoch (%): the reported result.
    pub test_acc: f64,
    /// Test accuracy after the last epoch (%).
    pub final_test_acc: f64,
    /// l2tww's version.
    pub l2tww_version: String,
    /// The device it ran on.
    pub device: String,
    /// Every epoch.
    pub epochs: Vec<EpochRecord>,
}

impl RunSummary {
    /// Summarises `epochs` (at least one).
    pub fn from_epochs(method: &str, seed: u64, device: &str, epochs: Vec<EpochRecord>) -> Self {
        let mut best = 0;
        for (i, e) in epochs.iter().enumerate() {
            if e.val_acc > epochs[best].val_acc {
                best = i;
            }
        }
        RunSummary {
            method: method.to_string(),
            seed,
            best_epoch: epochs.get(best).map_or(0, |e| e.epoch),
            best_val_acc: epochs.get(best).map_or(0.0, |e| e.val_acc),
            test_acc: epochs.get(best).map_or(0.0, |e| e.test_acc),
            final_test_acc: epochs.last().map_or(0.0, |e| e.test_acc),
            l2tww_version: env!("CARGO_PKG_VERSION").to_string(),
            device: device.to_string(),
            epochs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(epoch: usize, val_acc: f64, test_acc: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            lr: 0.1,
            train_loss: 1.0,
            train_acc: 50.0,
            val_acc,
            test_acc,
            seconds: 1.0,
            terms: Default::default(),
            stats: Default::default(),
        }
    }

    #[test]
    fn the_result_is_the_test_accuracy_at_the_first_best_validation_epoch() {
        let s = RunSummary::from_epochs(
            "scratch",
            0,
            "cpu",
            vec![
                epoch(0, 40.0, 41.0),
                epoch(1, 60.0, 55.0),
                epoch(2, 60.0, 70.0),
                epoch(3, 50.0, 72.0),
            ],
        );
        assert_eq!(
            (s.best_epoch, s.test_acc, s.final_test_acc),
            (1, 55.0, 72.0)
        );
    }
}
