//! Transfer training and its checks: the training engine (`engine`), the methods as loss terms
//! and hooks on it (`methods`), the meta-learning machinery (`meta`), what a run records
//! (`record`), the timing of a step's phases for the benchmark (`phases`), and `conformance`,
//! which runs the float64 reference cases produced by the official L2T-ww code.

pub mod bench;
pub mod conformance;
pub mod engine;
pub mod fidelity;
pub mod meta;
pub mod methods;
pub mod metrics;
pub mod phases;
pub mod record;
pub mod stats;
pub mod train;
pub mod train_config;
