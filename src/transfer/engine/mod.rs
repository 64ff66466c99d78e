//! The one training engine: batches, optimisation settings, the method contract, the loop,
//! checkpoints. Methods are loss terms and hooks on it (see `transfer::methods`).

pub mod batches;
pub mod checkpoint;
pub mod config;
pub mod evaluate;
pub mod fit;
pub mod method;
pub mod step;

pub use batches::{Batch, BatchSource, TensorBatches};
pub use config::{EvalConfig, OptimConfig, Schedule, TestEval};
pub use fit::{resumed_line, Listener, Quiet, RunData, Trainer};
pub use method::{AfterStep, Method, StepContext};
