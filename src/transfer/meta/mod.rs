//! Meta-learning machinery: SGD with a tape of look-ahead steps and the exact second-order
//! meta-gradient through them, and Adam for the meta-networks.

pub mod adam;
pub mod sgd;

pub use adam::{Adam, AdamConfig};
pub use sgd::{grads_or_zero, Sgd, SgdConfig, Tape};
