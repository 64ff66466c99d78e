//! `l2tww bench loader`: images per second of the 32×32 augmenting loader, as one JSON line;
//! with `--vgg-step`, also the time of one VGG9-bn training step on the same batch size, so the
//! ratio shows whether training would ever wait for data.
use super::GlobalOpts;
use crate::data::sample::{Encoding, Sample};
use crate::data::store::write_split;
use crate::data::{Augment, Loader, LoaderConfig, Store, Subset};
use crate::models::{zoo::Arch, Model};
use clap::{Args, Subcommand};
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use tch::nn::OptimizerConfig;

/// Arguments of `l2tww bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    pub command: BenchCommand,
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
        BenchCommand::Loader(a) => loader(a, global),
    }
}

fn loader(a: LoaderArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let device = global.device.resolve()?;
    let _tmp;
    let path = match a.parquet {
        Some(p) => p,
        None => {
            let dir = tempfile::tempdir()?;
            let p = dir.path().join("bench.parquet");
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
            _tmp = dir;
            p
        }
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
        let mut opt = tch::nn::Sgd {
            momentum: 0.9,
            ..Default::default()
        }
        .build(&model.vs, 0.1)?;
        let batch = loader.epoch(0).next().expect("one batch")?;
        let mut times = Vec::new();
        for _ in 0..4 {
            let t = Instant::now();
            let loss = model
                .net
                .logits_t(&batch.x, true)
                .cross_entropy_for_logits(&batch.y);
            opt.backward_step(&loss);
            let _ = f64::try_from(loss)?;
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
