//! The one training loop. Per batch: one `train_step` (see `step`). Per epoch: the learning rate from the schedule, evaluation on validation and test, the
//! method's statistics on validation, a record, a checkpoint. A run whose checkpoint exists
//! continues from it.

use super::batches::BatchSource;
use super::checkpoint;
use super::config::OptimConfig;
use super::method::Method;
use super::step::{accuracy, forward_sources, optimizer_for, train_step};
use crate::error::Result;
use crate::models::Model;
use crate::transfer::record::{EpochRecord, RunSummary};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;
use tch::Tensor;

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
    fn evaluate(&mut self, data: &dyn BatchSource, observe: bool) -> Result<f64> {
        let (mut correct, mut total) = (0i64, 0i64);
        for batch in data.batches(0) {
            let b = batch?;
            let logits = tch::no_grad(|| self.target.net.logits_t(&b.x, false));
            let (c, t) = accuracy(&logits, &b.y);
            correct += c;
            total += t;
            if observe {
                let feats: Vec<Vec<Tensor>> = forward_sources(self.sources, &b.x)
                    .into_iter()
                    .map(|f| f.features)
                    .collect();
                tch::no_grad(|| self.method.observe_eval(&feats));
            }
        }
        Ok(if total > 0 {
            100.0 * correct as f64 / total as f64
        } else {
            0.0
        })
    }

    /// Trains (or continues training) and returns the run's summary.
    pub fn fit(&mut self, data: RunData, listener: &mut dyn Listener) -> Result<RunSummary> {
        let o = self.optim;
        let mut sgd = optimizer_for(self.target, self.method, &o);
        let mut records = Vec::new();
        match &self.checkpoint {
            Some(path) if path.exists() => {
                records = checkpoint::load(
                    path,
                    &self.target.vs,
                    self.method,
                    &mut sgd,
                    &self.fingerprint,
                )?
                .records;
            }
            _ => self.method.prepare(
                self.target,
                self.sources,
                data.train_eval.unwrap_or(data.train),
            )?,
        }
        let device = self.target.vs.device();
        let mut ran = 0;
        for epoch in records.len()..o.epochs {
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
            let val_acc = self.evaluate(data.val, true)?;
            let stats = self.method.take_eval_stats().into_iter().collect();
            let test_acc = self.evaluate(data.test, false)?;
            let n = iters.max(1) as f64;
            let record = EpochRecord {
                epoch,
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
            records.push(record);
            if let Some(path) = &self.checkpoint {
                checkpoint::save(
                    path,
                    &self.target.vs,
                    self.method,
                    &sgd,
                    &records,
                    &self.fingerprint,
                )?;
            }
            ran += 1;
        }
        let device_name = crate::device::describe(device);
        Ok(RunSummary::from_epochs(
            self.method.name(),
            self.seed,
            &device_name,
            records,
        ))
    }
}
