//! The contract between the one training engine and a transfer method. A method contributes
//! loss terms to the cross-entropy, may own parameters trained with the target, may act after
//! each SGD step (L2T-ww's meta step), and keeps what a checkpoint must hold.

use crate::error::Result;
use crate::models::{Forward, Model, Network};
use crate::transfer::engine::batches::BatchSource;
use crate::transfer::meta::Sgd;
use tch::Tensor;

/// What a method sees at a training step.
pub struct StepContext<'a> {
    /// Inputs and labels of the batch.
    pub x: &'a Tensor,
    /// Labels.
    pub y: &'a Tensor,
    /// Dataset indices of the samples.
    pub idx: &'a [i64],
    /// The target's forward pass (train mode, with graph).
    pub target: &'a Forward,
    /// Each source's forward pass (eval mode, no graph), computed once per batch.
    pub sources: &'a [Forward],
}

/// What a method may use after the SGD step.
pub struct AfterStep<'a> {
    /// The target's optimizer (its parameters are the target's and the method's).
    pub sgd: &'a mut Sgd,
    /// The target network.
    pub target: &'a dyn Network,
    /// The target's non-trained variables (batch-norm running statistics).
    pub buffers: &'a [Tensor],
    /// Each source's tapped features for this batch.
    pub sources: &'a [Vec<Tensor>],
    /// Inputs.
    pub x: &'a Tensor,
    /// Labels.
    pub y: &'a Tensor,
}

/// A transfer method: loss terms and hooks on the engine.
pub trait Method {
    /// The method's name as written in configurations.
    fn name(&self) -> &str;

    /// Before training: initialise the target (fine-tuning) or record what the method needs from
    /// the training data (LwF's soft targets).
    fn prepare(
        &mut self,
        _target: &Model,
        _sources: &[Model],
        _train: &dyn BatchSource,
    ) -> Result<()> {
        Ok(())
    }

    /// Parameters trained together with the target by the same SGD, with names for checkpoints.
    fn trained_params(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Loss terms added to the cross-entropy, each with a name (for reports and guard rails).
    fn terms(&self, _ctx: &StepContext) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// After each SGD step.
    fn after_step(&mut self, _step: AfterStep) -> Result<()> {
        Ok(())
    }

    /// Further state a checkpoint must keep (meta-networks, their optimizer), by name.
    fn state(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Restores what [`Method::state`] returned.
    fn load_state(&mut self, _state: &[(String, Tensor)]) -> Result<()> {
        Ok(())
    }

    /// Whether the method keeps statistics over evaluation passes (then the loop shows it the
    /// sources' features of the validation batches, before training and after every epoch).
    fn observes_eval(&self) -> bool {
        false
    }

    /// Accumulates per-pair statistics over an evaluation pass (the sources' features of a
    /// validation batch).
    fn observe_eval(&mut self, _sources: &[Vec<Tensor>]) {}

    /// The accumulated evaluation statistics (e.g. `lambda.3`, `entropy.3`), then reset.
    fn take_eval_stats(&mut self) -> Vec<(String, f64)> {
        Vec::new()
    }
}
