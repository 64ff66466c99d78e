//! The one training loop. Before the first epoch: the method's statistics on validation (where
//! λ and w start). Per batch: one `train_step` (see `step`). Per epoch: the learning rate from
//! the schedule, evaluation on validation (with the method's statistics), a record, a
//! checkpoint. The test split is evaluated at the end for the best validation epoch's weights
//! (kept since that epoch) and the last epoch's, or after every epoch when asked. A run whose
//! checkpoint exists continues from it.

use super::batches::BatchSource;
use super::checkpoint::{self, Progress};
use super::config::{EvalConfig, OptimConfig, TestEval};
use super::evaluate::{accuracy_on, method_stats_on, Snapshot};
use super::method::Method;
use super::step::{optimizer_for, train_step};
use crate::error::Result;
use crate::models::Model;
use crate::transfer::record::{EpochRecord, RunSummary};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// The data of a run.
pub struct RunData<'a> {
    /// Training batches (shuffled, augmented).
    pub train: &'a dyn BatchSource,
    /// Validation batches.
    pub val: &'a dyn BatchSource,
    /// Test batches.
    pub test: &'a dyn BatchSource,
    /// The training images without augmentation, for what a method records before training
    /// (LwF); the training batches of epoch 0 are used when absent.
    pub train_eval: Option<&'a dyn BatchSource>,
}

/// Receives progress events; the loop never depends on what a listener does.
pub trait Listener {
    /// After each training batch.
    fn batch(&mut self, _epoch: usize, _iteration: usize, _of: usize, _loss: f64, _acc: f64) {}
    /// After each epoch.
    fn epoch(&mut self, _record: &EpochRecord, _of: usize) {}
    /// Once, before the first epoch of a run continued from its checkpoint: `done` epochs of
    /// `of` were trained before.
    fn resumed(&mut self, _done: usize, _of: usize) {}
}

/// What a training continued from its checkpoint says first: the epoch it continues with, or
/// that the checkpoint holds every epoch (nothing is trained again; the results are written).
pub fn resumed_line(done: usize, of: usize) -> String {
    if done >= of {
        format!(
            "the checkpoint holds all {of} epoch(s): the training is complete; nothing is \
             trained again, its results are written"
        )
    } else {
        format!(
            "resumed from the checkpoint after epoch {done}/{of}; continuing with epoch {}",
            done + 1
        )
    }
}

/// A listener that ignores everything.
pub struct Quiet;
impl Listener for Quiet {}

/// A training run: the target, its frozen sources, the method and the settings.
pub struct Trainer<'a> {
    /// The network trained.
    pub target: &'a Model,
    /// Frozen source networks (evaluated in eval mode).
    pub sources: &'a [Model],
    /// The transfer method.
    pub method: &'a mut dyn Method,
    /// Optimisation settings.
    pub optim: OptimConfig,
    /// Evaluation settings.
    pub eval: EvalConfig,
    /// Seed of the run (recorded).
    pub seed: u64,
    /// Where the checkpoint goes; None for no checkpoints.
    pub checkpoint: Option<PathBuf>,
    /// Identifies the configuration; a checkpoint of another one is refused.
    pub fingerprint: String,
    /// Stop after this many epochs in this call (to test resuming); None to finish.
    pub stop_after: Option<usize>,
}

impl Trainer<'_> {
    fn accuracy(&mut self, data: &dyn BatchSource, observe: bool) -> Result<f64> {
        let observe = observe && self.method.observes_eval();
        accuracy_on(self.target, self.sources, self.method, data, observe)
    }

    /// Tests the last epoch's weights and, if another epoch was the best on validation, its
    /// weights; the records of both carry the result.
    fn test_at_end(&mut self, data: &dyn BatchSource, progress: &mut Progress) -> Result<()> {
        let Some(last) = progress.records.len().checked_sub(1) else {
            return Ok(());
        };
        if progress.records[last].test_acc.is_none() {
            progress.records[last].test_acc = Some(self.accuracy(data, false)?);
        }
        let best = RunSummary::best_index(&progress.records);
        if progress.records[best].test_acc.is_none() {
            let acc = match &progress.best {
                Some((i, snapshot)) if *i == best => {
                    snapshot.accuracy_on(self.target, self.sources, self.method, data)?
                }
                _ => {
                    return Err(crate::error::Error::Invalid(format!(
                        "the weights of the best validation epoch ({}) were not kept",
                        progress.records[best].epoch
                    )))
                }
            };
            progress.records[best].test_acc = Some(acc);
        }
        Ok(())
    }

    /// Trains (or continues training) and returns the run's summary.
    pub fn fit(&mut self, data: RunData, listener: &mut dyn Listener) -> Result<RunSummary> {
        let o = self.optim;
        let mut sgd = optimizer_for(self.target, self.method, &o);
        let mut progress = match &self.checkpoint {
            Some(path) if path.exists() => checkpoint::load(
                path,
                &self.target.vs,
                self.method,
                &mut sgd,
                &self.fingerprint,
            )?,
            _ => {
                self.method.prepare(
                    self.target,
                    self.sources,
                    data.train_eval.unwrap_or(data.train),
                )?;
                let initial_stats = if self.method.observes_eval() {
                    method_stats_on(self.sources, self.method, data.val)?
                } else {
                    BTreeMap::new()
                };
                Progress {
                    initial_stats,
                    ..Progress::default()
                }
            }
        };
        if !progress.records.is_empty() {
            listener.resumed(progress.records.len(), o.epochs);
        }
        let device = self.target.vs.device();
        for (ran, epoch) in (progress.records.len()..o.epochs).enumerate() {
            if self.stop_after.is_some_and(|n| ran >= n) {
                break;
            }
            let started = Instant::now();
            sgd.cfg.lr = o.lr_at(epoch);
            let (mut loss_sum, mut correct, mut seen, mut iters) = (0.0, 0i64, 0i64, 0usize);
            let mut term_sums: BTreeMap<String, f64> = BTreeMap::new();
            let of = data.train.num_batches();
            for (iteration, batch) in data.train.batches(epoch).enumerate() {
                let b = batch?;
                let step = train_step(
                    self.target,
                    self.sources,
                    self.method,
                    &mut sgd,
                    &b,
                    epoch,
                    iteration,
                )?;
                for (name, v) in &step.terms {
                    *term_sums.entry(name.clone()).or_default() += v;
                }
                loss_sum += step.loss;
                correct += step.correct;
                seen += step.seen;
                iters += 1;
                listener.batch(
                    epoch,
                    iteration,
                    of,
                    step.loss,
                    100.0 * step.correct as f64 / step.seen.max(1) as f64,
                );
            }
            let val_acc = self.accuracy(data.val, true)?;
            let stats = self.method.take_eval_stats().into_iter().collect();
            let test_acc = match self.eval.test {
                TestEval::EveryEpoch => Some(self.accuracy(data.test, false)?),
                TestEval::Best => None,
            };
            let n = iters.max(1) as f64;
            let record = EpochRecord {
                epoch: epoch + 1,
                lr: sgd.cfg.lr,
                train_loss: loss_sum / n,
                train_acc: 100.0 * correct as f64 / seen.max(1) as f64,
                val_acc,
                test_acc,
                seconds: started.elapsed().as_secs_f64(),
                terms: term_sums.into_iter().map(|(k, v)| (k, v / n)).collect(),
                stats,
            };
            listener.epoch(&record, o.epochs);
            progress.records.push(record);
            let i = progress.records.len() - 1;
            if self.eval.test == TestEval::Best && RunSummary::best_index(&progress.records) == i {
                progress.best = Some((i, Snapshot::of(self.target)));
            }
            if let Some(path) = &self.checkpoint {
                checkpoint::save(
                    path,
                    &self.target.vs,
                    self.method,
                    &sgd,
                    &progress,
                    &self.fingerprint,
                )?;
            }
        }
        if progress.records.len() == o.epochs {
            self.test_at_end(data.test, &mut progress)?;
        }
        let device_name = crate::device::describe(device);
        let mut summary = RunSummary::from_epochs(
            self.method.name(),
            self.seed,
            &device_name,
            progress.records,
        );
        summary.initial_stats = progress.initial_stats;
        Ok(summary)
    }
}
