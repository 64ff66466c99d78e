//! What a training run records: one row per epoch (losses, accuracies, learning rate, λ and the
//! entropy of w per pair) and the run's summary — the test accuracy at the best validation epoch,
//! as the official logs report it — with the seed and the versions that produced it, the method
//! statistics before training, and how far the meta-networks moved from them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The column names of `metrics.parquet`, in one place for its writer (`transfer::metrics`),
/// the method statistics that become columns, and its readers (the report's curves and plots).
pub mod columns {
    /// The epoch, counted from 1.
    pub const EPOCH: &str = "epoch";
    /// The epoch's learning rate.
    pub const LR: &str = "lr";
    /// Mean training loss.
    pub const TRAIN_LOSS: &str = "train_loss";
    /// Training accuracy (%).
    pub const TRAIN_ACC: &str = "train_acc";
    /// Validation accuracy (%).
    pub const VAL_ACC: &str = "val_acc";
    /// Test accuracy (%), null where not tested.
    pub const TEST_ACC: &str = "test_acc";
    /// Wall time of the epoch (s).
    pub const SECONDS: &str = "seconds";
    /// Prefix of each loss term's column (`term.ce`).
    pub const TERM: &str = "term.";
    /// Prefix of each pair's mean λ: `lambda.s<k>.<m>-<n>` is the pair of source `k` (its place
    /// in `sources`, from 0), that source's tap `m` and the target's tap `n` (taps numbered from
    /// 0 as `l2tww models ARCH` lists them), e.g. `lambda.s0.4-0`.
    pub const LAMBDA: &str = "lambda.";
    /// Prefix of each pair's mean entropy of w (`entropy.s0.4-0`).
    pub const ENTROPY: &str = "entropy.";
    /// Mean over pairs of |λ − λ₀|.
    pub const META_LAMBDA_SHIFT: &str = "meta.lambda_shift";
    /// Mean entropy of w now.
    pub const META_W_ENTROPY: &str = "meta.w_entropy";
    /// Mean entropy of w before training.
    pub const META_W_ENTROPY_INIT: &str = "meta.w_entropy_init";
}

/// One epoch of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, counted from 1 as everywhere people read it (console, `summary.json`,
    /// `metrics.parquet`, plots, errors).
    pub epoch: usize,
    /// Learning rate of the epoch.
    pub lr: f64,
    /// Mean training loss (cross-entropy plus the method's terms).
    pub train_loss: f64,
    /// Training accuracy (%, on the augmented batches).
    pub train_acc: f64,
    /// Validation accuracy (%).
    pub val_acc: f64,
    /// Test accuracy (%); absent for the epochs whose weights were not tested (by default only
    /// the best validation epoch and the last one are).
    #[serde(default)]
    pub test_acc: Option<f64>,
    /// Wall time of the epoch (s).
    pub seconds: f64,
    /// Mean of each loss term over the epoch (`ce`, `wfm`, …).
    pub terms: BTreeMap<String, f64>,
    /// Method statistics over the validation set (`lambda.i`, `entropy.i` per pair).
    pub stats: BTreeMap<String, f64>,
}

impl EpochRecord {
    /// The epoch as one line for people (epochs counted from 1): learning rate, loss,
    /// accuracies (test only where it was evaluated), time.
    pub fn line(&self, of: usize) -> String {
        let test = self
            .test_acc
            .map_or(String::new(), |t| format!("  test {t:.2}%"));
        format!(
            "epoch {:>3}/{of}  lr {:.4}  loss {:.4}  train {:.2}%  val {:.2}%{test}  {:.1}s",
            self.epoch, self.lr, self.train_loss, self.train_acc, self.val_acc, self.seconds
        )
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The method's name.
    pub method: String,
    /// Seed of the run.
    pub seed: u64,
    /// Epoch with the best validation accuracy (the first of equals), counted from 1.
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
    /// The method's statistics over the validation set before training (λ and the entropy of w
    /// per pair for L2T); empty for other methods.
    #[serde(default)]
    pub initial_stats: BTreeMap<String, f64>,
    /// Every epoch.
    pub epochs: Vec<EpochRecord>,
}

/// How far an L2T run's meta-networks moved from their initial outputs by one epoch, averaged
/// over the pairs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetaMovement {
    /// Mean over the pairs of |λ − λ before training| (validation-set means).
    pub lambda_shift: f64,
    /// Mean over the pairs of the entropy of w.
    pub w_entropy: f64,
    /// The same before training (w starts uniform: the largest entropy, ln C).
    pub w_entropy_init: f64,
}

/// The movement of the meta-networks in `stats` against `initial` (λ only for L2T-ww; None
/// when the run has no entropy statistics).
pub fn meta_movement(
    initial: &BTreeMap<String, f64>,
    stats: &BTreeMap<String, f64>,
) -> Option<MetaMovement> {
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let pairs = |prefix: &str| -> Vec<(f64, f64)> {
        stats
            .iter()
            .filter_map(|(k, v)| {
                let pair = k.strip_prefix(prefix)?;
                let init = initial.get(&format!("{prefix}{pair}"))?;
                Some((*init, *v))
            })
            .collect()
    };
    let entropy = pairs(columns::ENTROPY);
    let w_entropy = mean(&entropy.iter().map(|p| p.1).collect::<Vec<_>>())?;
    let w_entropy_init = mean(&entropy.iter().map(|p| p.0).collect::<Vec<_>>())?;
    let shifts: Vec<f64> = pairs(columns::LAMBDA)
        .iter()
        .map(|(a, b)| (b - a).abs())
        .collect();
    Some(MetaMovement {
        lambda_shift: mean(&shifts).unwrap_or(0.0),
        w_entropy,
        w_entropy_init,
    })
}

impl RunSummary {
    /// Summarises `epochs` (at least one; the best validation epoch and the last one tested).
    pub fn from_epochs(method: &str, seed: u64, device: &str, epochs: Vec<EpochRecord>) -> Self {
        let best = Self::best_index(&epochs);
        RunSummary {
            method: method.to_string(),
            seed,
            best_epoch: epochs.get(best).map_or(0, |e| e.epoch),
            best_val_acc: epochs.get(best).map_or(0.0, |e| e.val_acc),
            test_acc: epochs.get(best).and_then(|e| e.test_acc).unwrap_or(0.0),
            final_test_acc: epochs.last().and_then(|e| e.test_acc).unwrap_or(0.0),
            l2tww_version: env!("CARGO_PKG_VERSION").to_string(),
            device: device.to_string(),
            initial_stats: BTreeMap::new(),
            epochs,
        }
    }

    /// The index of the epoch with the best validation accuracy (the first of equals).
    pub fn best_index(epochs: &[EpochRecord]) -> usize {
        let mut best = 0;
        for (i, e) in epochs.iter().enumerate() {
            if e.val_acc > epochs[best].val_acc {
                best = i;
            }
        }
        best
    }

    /// How far the meta-networks had moved after the last epoch (None for runs without them).
    pub fn final_movement(&self) -> Option<MetaMovement> {
        meta_movement(&self.initial_stats, &self.epochs.last()?.stats)
    }

    /// The learned λ of every pair after the last epoch, beside its value before training, as
    /// lines for people (empty for methods without λ).
    pub fn lambda_lines(&self) -> Vec<String> {
        let Some(last) = self.epochs.last() else {
            return Vec::new();
        };
        let pairs: Vec<(&str, f64)> = last
            .stats
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(columns::LAMBDA)?, *v)))
            .collect();
        if pairs.is_empty() {
            return Vec::new();
        }
        let mut out = vec![
            "λ per pair after the last epoch (s<k>.<m>-<n>: source k, its tap m → target tap n; \
             `l2tww models ARCH` lists the taps):"
                .to_string(),
        ];
        for (pair, v) in pairs {
            let start = self
                .initial_stats
                .get(&format!("{}{pair}", columns::LAMBDA))
                .map_or(String::new(), |s| format!("  (before training {s:.4})"));
            out.push(format!("  {pair:<10} {v:.4}{start}"));
        }
        out
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
            test_acc: Some(test_acc),
            seconds: 1.0,
            terms: Default::default(),
            stats: Default::default(),
        }
    }

    #[test]
    fn the_learned_lambdas_are_listed_per_pair_beside_their_start() {
        let mut last = epoch(2, 50.0, 50.0);
        last.stats.insert("lambda.s0.2-1".into(), 0.75);
        last.stats.insert("lambda.s1.0-4".into(), 1.25);
        last.stats.insert("entropy.s0.2-1".into(), 3.0);
        let mut s = RunSummary::from_epochs("l2t-ww", 0, "cpu", vec![epoch(1, 40.0, 40.0), last]);
        s.initial_stats.insert("lambda.s0.2-1".into(), 1.0);
        let lines = s.lambda_lines();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[1].contains("s0.2-1") && lines[1].contains("0.7500"),
            "{lines:?}"
        );
        assert!(lines[1].contains("before training 1.0000"), "{lines:?}");
        assert!(
            lines[2].contains("s1.0-4") && lines[2].contains("1.2500"),
            "{lines:?}"
        );
        let plain = RunSummary::from_epochs("scratch", 0, "cpu", vec![epoch(1, 40.0, 40.0)]);
        assert!(plain.lambda_lines().is_empty());
    }

    #[test]
    fn the_result_is_the_test_accuracy_at_the_first_best_validation_epoch() {
        let s = RunSummary::from_epochs(
            "scratch",
            0,
            "cpu",
            vec![
                epoch(1, 40.0, 41.0),
                epoch(2, 60.0, 55.0),
                epoch(3, 60.0, 70.0),
                epoch(4, 50.0, 72.0),
            ],
        );
        assert_eq!(
            (s.best_epoch, s.test_acc, s.final_test_acc),
            (2, 55.0, 72.0)
        );
    }

    #[test]
    fn meta_movement_averages_the_pairs_against_their_initial_values() {
        let m = |v: &[(&str, f64)]| -> BTreeMap<String, f64> {
            v.iter().map(|(k, x)| (k.to_string(), *x)).collect()
        };
        let initial = m(&[
            ("lambda.s0.4-0", 1.0),
            ("lambda.s0.4-1", 0.5),
            ("entropy.s0.4-0", 4.0),
            ("entropy.s0.4-1", 4.0),
        ]);
        let now = m(&[
            ("lambda.s0.4-0", 1.5),
            ("lambda.s0.4-1", 0.3),
            ("entropy.s0.4-0", 3.0),
            ("entropy.s0.4-1", 4.0),
        ]);
        let mv = meta_movement(&initial, &now).unwrap();
        assert!((mv.lambda_shift - 0.35).abs() < 1e-12);
        assert_eq!((mv.w_entropy, mv.w_entropy_init), (3.5, 4.0));
        assert!(meta_movement(&BTreeMap::new(), &now).is_none());
    }
}
