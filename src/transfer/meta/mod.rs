//! Meta-learning machinery: SGD with look-ahead steps and the exact second-order meta-gradient
//! through them, forward-mode differentiation for directional derivatives, and Adam for the
//! meta-networks.

pub mod adam;
pub mod forward_ad;
pub mod sgd;

pub use adam::{Adam, AdamConfig};
pub use sgd::{grads_or_zero, MetaPart, Recorded, Sgd, SgdConfig};
