//! l2tww: transfer-learning studies between convolutional networks, centred on L2T-ww
//! ("Learning What and Where to Transfer", Jang et al., ICML 2019).
//!
//! Modules follow the data flow: `data` (datasets, Parquet store, subsets, loader), `models`
//! (networks and weights), `transfer` (training and the conformance checks against the official
//! code), `cache` (content-addressed stage outputs), `report` (tables and plots), `pipeline`
//! (YAML stages, keys, executors), `slurm` (a batch-system client), `cli` (the command line).
//! Lower modules never import higher ones.
#![warn(missing_docs)]

pub mod cache;
pub mod cli;
pub mod data;
pub mod device;
pub mod error;
pub mod font;
pub mod fsx;
pub mod models;
pub mod pipeline;
pub mod report;
pub mod slurm;
pub mod transfer;
pub mod verbosity;
pub mod yaml;

pub use error::{Error, Result};

/// libtorch's directory as found at build time (where the rpath points).
pub const LIBTORCH_LIB: Option<&str> = option_env!("L2TWW_LIBTORCH_LIB");

/// The git commit the binary was built from: a short hash, `-dirty` when tracked files had
/// changes, `unknown` when built outside a git checkout.
pub const GIT_COMMIT: &str = env!("L2TWW_GIT_COMMIT");

/// The version of the libtorch tch was built against (`unknown` when build.rs could not tell).
pub const LIBTORCH_VERSION: &str = env!("L2TWW_LIBTORCH_VERSION");

/// What `l2tww --version` prints after the program's name: the crate's version, the commit and
/// the libtorch version.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("L2TWW_GIT_COMMIT"),
    ", libtorch ",
    env!("L2TWW_LIBTORCH_VERSION"),
    ")"
);
