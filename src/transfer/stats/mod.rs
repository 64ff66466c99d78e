//! Source statistics, the `source-stats` stage: for one source network and one split (or a
//! subset of it), every image's pooled feature at each tap, each channel's mean and std, and a
//! LogME score per tap that ranks candidate source layers before any training. Written as
//! Parquet with a `stats.json` of provenance keyed by the content hashes of the weights, the
//! data and the preprocessing. The L2T methods can standardise their meta-networks' inputs with
//! a `channels.parquet` (see `methods::standardize`).
//!
//! ```ignore
//! use l2tww::transfer::stats::{compute_source_stats, SourceStatsSpec};
//! let spec = SourceStatsSpec::new("source.safetensors".into(), "train.parquet".into(), "out".into());
//! let stats = compute_source_stats(&spec, tch::Device::Cpu, tch::Kind::Float)?;
//! for layer in stats.ranking() { println!("{} {:.4}", layer.layer, layer.logme); }
//! ```
//!
//! Imports `data`, `models`, `fsx` and `error`; `methods` imports it (the meta-networks' pooling
//! [`gap`] lives here), never the other way round.

pub mod compute;
pub mod logme;
pub mod spec;
pub mod tables;

pub use compute::{channel_stats, compute_source_stats, gap, SourceStats};
pub use spec::{Crop, Provenance, SourceStatsSpec, StatsOptions};
pub use tables::{read_channels, LayerTable};
