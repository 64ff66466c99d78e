//! `l2tww stats SOURCE.safetensors --data SPLIT.parquet --out DIR`: the source statistics of one
//! source network on one split (pooled features per tap, channel means and stds, LogME per tap),
//! then the taps ranked by LogME.

use super::GlobalOpts;
use crate::data::{Batching, Selection};
use crate::transfer::stats::{compute_source_stats, Crop, SourceStatsSpec, StatsOptions};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `l2tww stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// The source network's checkpoint (safetensors).
    pub source: PathBuf,
    /// The split (Parquet, from `l2tww data prepare`).
    #[arg(long)]
    pub data: PathBuf,
    /// Keep only these classes (original ids, comma-separated), relabelled 0.. in this order.
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<i64>>,
    /// Images per class, chosen as training with the same --per-class and seed does.
    #[arg(long)]
    pub per_class: Option<usize>,
    /// Seed of the per-class choice (a training run's subset-seed, else its seed).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Images per forward pass.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Resize every image to this size first.
    #[arg(long)]
    pub resize_to: Option<usize>,
    /// Resize to 256 and center-crop 224 (the 224×224 settings).
    #[arg(long)]
    pub crop224: bool,
    /// Only these taps (comma-separated names; default: all).
    #[arg(long, value_delimiter = ',')]
    pub taps: Option<Vec<String>>,
}

/// Computes the statistics and prints the LogME ranking.
pub fn run(a: StatsArgs, g: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let spec = SourceStatsSpec {
        select: Selection {
            classes: a.classes,
            per_class: a.per_class,
        },
        batching: Batching {
            batch: a.batch,
            resize_to: a.resize_to,
        },
        options: StatsOptions {
            seed: a.seed,
            crop: if a.crop224 {
                Crop::Imagenet224
            } else {
                Crop::None
            },
            taps: a.taps,
            ..StatsOptions::default()
        },
        ..SourceStatsSpec::new(a.source, a.data, a.out)
    };
    let stats = compute_source_stats(&spec, g.device.resolve()?, g.precision.kind())?;
    let p = &stats.provenance;
    println!(
        "{} ({}) on {} images of {}: {}",
        p.checkpoint.path.display(),
        p.arch,
        p.images,
        p.data.path.display(),
        stats.out.display()
    );
    println!(
        "{:>4}  {:<14} {:>5}  {:>10}",
        "rank", "layer", "dim", "LogME"
    );
    for (i, l) in stats.ranking().iter().enumerate() {
        println!(
            "{:>4}  {:<14} {:>5}  {:>10.4}",
            i + 1,
            l.layer,
            l.mean.len(),
            l.logme
        );
    }
    Ok(ExitCode::SUCCESS)
}
