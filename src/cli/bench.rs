//! `l2tww bench`: one JSON line. Without a subcommand, the cost of an L2T-ww iteration against a
//! plain SGD step (see `transfer::bench`); `l2tww bench loader`, images per second of the 32×32
//! augmenting loader, optionally beside one VGG9-bn training step on the same batch size, so the
//! ratio shows whether training would ever wait for data.

use super::GlobalOpts;
use crate::data::sample::{Encoding, Sample};
use crate::data::store::write_split;
use crate::data::{Augment, Loader, LoaderConfig, Store, Subset};
use crate::models::{zoo::Arch, Model};
use crate::transfer::bench::{run as run_training_bench, BenchConfig};
use crate::transfer::engine::step::{optimizer_for, train_step};
use crate::transfer::engine::{Batch, OptimConfig};
use crate::transfer::methods::plain::Scratch;
use clap::{Args, Subcommand};
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Arguments of `l2tww bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What else to measure (default: the L2T-ww iteration).
    #[command(subcommand)]
    pub command: Option<BenchCommand>,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    pub batch: i64,
    /// Measured iterations of each kind.
    #[arg(long, default_value_t = 5)]
    pub iters: usize,
    /// Look-ahead steps of L2T-ww.
    #[arg(long = "T", default_value_t = 2)]
    pub lookahead: usize,
}

/// The `bench` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Throughput of the 32×32 augmenting loader (pad 4, crop, flip, normalise).
    Loader(LoaderArgs),
}

/// Arguments of `l2tww bench loader`.
#[derive(Debug, Args)]
pub struct LoaderArgs {
    /// A prepared 32×32 split (default: 10000 random 32×32 RGB images).
    #[arg(long)]
    pub parquet: Option<PathBuf>,
    /// Batch size.
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// Epochs to time.
    #[arg(long, default_value_t = 2)]
    pub epochs: u64,
    /// Loader threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub loader_threads: usize,
    /// Also time VGG9-bn training steps (forward, backward, SGD) at the same batch size.
    #[arg(long)]
    pub vgg_step: bool,
}

/// Runs `l2tww bench …`.
pub fn run(args: BenchArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(BenchCommand::Loader(a)) => loader(a, global),
        None => {
            let device = global.device.resolve()?;
            let cfg = BenchConfig {
                batch: args.batch,
                iters: args.iters.max(1),
                lookahead: args.lookahead,
                device,
            };
            println!("{}", serde_json::to_string(&run_training_bench(cfg)?)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn random_split(dir: &std::path::Path) -> anyhow::Result<PathBuf> {
    let p = dir.join("bench.parquet");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let samples: Vec<Sample> = (0..10_000)
        .map(|i| Sample {
            index: i,
            label: (i % 10) as i64,
            height: 32,
            width: 32,
            channels: 3,
            encoding: Encoding::Raw,
            bytes: (0..3072).map(|_| rng.gen()).collect(),
        })
        .collect();
    let classes: Vec<String> = (0..10).map(|c| c.to_string()).collect();
    write_split(&p, &samples, &classes, &serde_json::json!("bench"))?;
    Ok(p)
}

fn loader(a: LoaderArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let device = global.device.resolve()?;
    let tmp = tempfile::tempdir()?;
    let path = match a.parquet {
        Some(p) => p,
        None => random_split(tmp.path())?,
    };
    let store = Arc::new(Store::open(&path)?);
    let subset = Subset::all(store.len(), path.display().to_string());
    let cfg = LoaderConfig {
        batch: a.batch,
        augment: Augment::Cifar32,
        device,
        threads: a.loader_threads,
        ..LoaderConfig::default()
    };
    let loader = Loader::new(store.clone(), &subset, cfg)?;
    let start = Instant::now();
    let mut images = 0usize;
    for e in 0..a.epochs {
        for b in loader.epoch(e) {
            images += b?.x.size()[0] as usize;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let threads = if a.loader_threads == 0 {
        rayon::current_num_threads()
    } else {
        a.loader_threads
    };
    let mut line = serde_json::json!({"bench": "loader", "augment": "cifar32", "batch": a.batch, "images": images, "seconds": secs, "images_per_s": images as f64 / secs, "loader_threads": threads, "device": crate::device::describe(device)});
    if a.vgg_step {
        let model = Model::new(Arch::Vgg9Bn, 10, device, tch::Kind::Float)?;
        let mut method = Scratch;
        let mut sgd = optimizer_for(
            &model,
            &method,
            &OptimConfig {
                lr: 0.1,
                ..Default::default()
            },
        );
        let b = loader.epoch(0).next().expect("one batch")?;
        let batch = Batch {
            x: b.x,
            y: b.y,
            idx: b.rows.iter().map(|&r| r as i64).collect(),
        };
        let mut times = Vec::new();
        for i in 0..4 {
            let t = Instant::now();
            train_step(&model, &[], &mut method, &mut sgd, &batch, 0, i)?;
            times.push(t.elapsed().as_secs_f64());
        }
        let step = times[1..].iter().sum::<f64>() / (times.len() - 1) as f64;
        line["vgg9bn_step_s"] = step.into();
        line["vgg9bn_images_per_s"] = (a.batch as f64 / step).into();
        line["loader_over_training"] = ((images as f64 / secs) / (a.batch as f64 / step)).into();
    }
    println!("{line}");
    Ok(ExitCode::SUCCESS)
}
