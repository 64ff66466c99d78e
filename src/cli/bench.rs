//! `l2tww bench`: JSON lines. Without a subcommand, the cost of an L2T-ww iteration in every
//! meta-gradient mode against a plain SGD step (see `transfer::bench`), optionally interleaved
//! with an outside command (the official code's loop run beside it); `l2tww bench fidelity`, how
//! close the first-order meta-gradient comes to the exact one on the reference networks (see
//! `transfer::fidelity`); `l2tww bench loader`, images per second of the 32×32 augmenting loader,
//! optionally beside one VGG9-bn training step on the same batch size, so the ratio shows
//! whether training would ever wait for data.

use super::GlobalOpts;
use crate::data::sample::{Encoding, Sample};
use crate::data::store::write_split;
use crate::data::{Augment, Loader, LoaderConfig, Store, Subset};
use crate::models::{zoo::Arch, Model};
use crate::transfer::bench::{
    combine, run as run_training_bench, BenchConfig, BenchResult, BesideSummary, Mode, Side,
};
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
    /// Time only this meta-gradient mode (`exact` or `first-order`; default: both), e.g. to read
    /// its own peak memory.
    #[arg(long)]
    pub mode: Option<String>,
    /// Time only this `meta-every` (default: 1 and 2).
    #[arg(long)]
    pub meta_every: Option<usize>,
    /// Also report the median time of every phase of each mode's iteration (the sources'
    /// forward, the live step, each look-ahead step, each Hessian-vector product, …), in plain
    /// steps too.
    #[arg(long)]
    pub phases: bool,
    /// Rounds: each times every mode, then runs `--beside` once.
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// A command run after each round (through `sh -c`), whose last output line is JSON — the
    /// official code's loop timed by a harness of your own, say; its lines are reported beside
    /// ours, and when they give the outside iteration's milliseconds as `l2tww_ms`, a last
    /// `summary` line gives our time over theirs per round and its median, minimum and maximum.
    #[arg(long)]
    pub beside: Option<String>,
}

/// The `bench` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Throughput of the 32×32 augmenting loader (pad 4, crop, flip, normalise).
    Loader(LoaderArgs),
    /// The first-order meta-gradient against the exact one (cosine, relative error), float64.
    Fidelity(FidelityArgs),
}

/// Arguments of `l2tww bench fidelity`.
#[derive(Debug, Args)]
pub struct FidelityArgs {
    /// The reference directory (the official checkpoint, the VGG9-bn weights and
    /// `l2tww_two_iterations.safetensors`).
    pub reference: PathBuf,
    /// Pair sets of the generated cases, `;`-separated (default: the reference case's 15
    /// pairs and the one-to-one pairs 4-0,9-1,14-2).
    #[arg(long)]
    pub pairs: Option<String>,
    /// Look-ahead steps of the generated cases.
    #[arg(long = "T", value_delimiter = ',', default_values_t = [1usize, 2, 3])]
    pub lookahead: Vec<usize>,
    /// Seeds of the generated cases.
    #[arg(long, value_delimiter = ',', default_values_t = [0i64, 1, 2])]
    pub seeds: Vec<i64>,
    /// Batch size of the generated cases.
    #[arg(long, default_value_t = 8)]
    pub batch: i64,
    /// Iterations per generated case.
    #[arg(long, default_value_t = 2)]
    pub iters: usize,
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
        Some(BenchCommand::Fidelity(a)) => fidelity(a),
        None => iteration(args, global),
    }
}

fn iteration(args: BenchArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let device = global.device.resolve()?;
    let wanted = match args.mode.as_deref() {
        None => None,
        Some(m) => Some(
            serde_json::from_value::<crate::transfer::methods::l2tww::MetaGradient>(m.into())
                .map_err(|_| anyhow::anyhow!("unknown --mode `{m}`: use exact or first-order"))?,
        ),
    };
    let modes: Vec<Mode> = Mode::all()
        .into_iter()
        .filter(|m| wanted.is_none_or(|w| m.meta_gradient == w))
        .filter(|m| args.meta_every.is_none_or(|k| m.meta_every == k))
        .collect();
    let modes = if modes.is_empty() {
        vec![Mode {
            meta_gradient: wanted.unwrap_or_default(),
            meta_every: args.meta_every.unwrap_or(1).max(1),
        }]
    } else {
        modes
    };
    let mut side_by_side: Vec<(Side, Side)> = Vec::new();
    for round in 0..args.rounds.max(1) {
        let result = if modes.len() == 1 {
            run_training_bench(BenchConfig {
                batch: args.batch,
                iters: args.iters.max(1),
                lookahead: args.lookahead,
                device,
                modes: modes.clone(),
                phases: args.phases,
            })?
        } else {
            let runs = modes
                .iter()
                .map(|m| mode_in_own_process(&args, global, device, *m))
                .collect::<anyhow::Result<Vec<_>>>()?;
            combine(runs).ok_or_else(|| anyhow::anyhow!("no mode to time"))?
        };
        let mut line = serde_json::to_value(result)?;
        let ours = Side::of_line(&line);
        line["round"] = round.into();
        println!("{line}");
        if let Some(cmd) = &args.beside {
            let out = std::process::Command::new("sh")
                .args(["-c", cmd])
                .output()?;
            let text = String::from_utf8_lossy(&out.stdout);
            let last = text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            let value: serde_json::Value = serde_json::from_str(last).map_err(|e| {
                anyhow::anyhow!(
                    "--beside `{cmd}` (exit {:?}) did not end with a JSON line: {e}",
                    out.status.code()
                )
            })?;
            if let Some(pair) = ours.zip(Side::of_line(&value)) {
                side_by_side.push(pair);
            }
            println!("{}", serde_json::json!({"round": round, "beside": value}));
        }
    }
    if let Some(cmd) = &args.beside {
        match BesideSummary::of(&side_by_side) {
            Some(s) => println!("{}", serde_json::json!({ "summary": s })),
            None => eprintln!(
                "note: no line of --beside `{cmd}` has a numeric `l2tww_ms`, so there is no \
                 ratio to sum up; print the outside iteration's milliseconds under that name"
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Times one mode in a process of its own (this program, `bench --mode … --meta-every …` with
/// the same options), so that no other mode's networks and graphs share its memory.
fn mode_in_own_process(
    args: &BenchArgs,
    global: &GlobalOpts,
    device: tch::Device,
    mode: Mode,
) -> anyhow::Result<BenchResult> {
    let device = match device {
        tch::Device::Cuda(i) => format!("cuda:{i}"),
        _ => "cpu".to_string(),
    };
    let gradient = serde_json::to_value(mode.meta_gradient)?;
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.args(["--quiet", "--device", &device, "--threads"])
        .arg(global.threads.to_string())
        .args(["bench", "--batch", &args.batch.to_string()])
        .args(["--iters", &args.iters.to_string(), "--T"])
        .arg(args.lookahead.to_string())
        .args([
            "--mode",
            gradient.as_str().unwrap_or("exact"),
            "--meta-every",
        ])
        .arg(mode.meta_every.to_string());
    if args.phases {
        cmd.arg("--phases");
    }
    let out = cmd.output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().rev().find(|l| !l.trim().is_empty());
    match (out.status.success(), last) {
        (true, Some(line)) => Ok(serde_json::from_str(line)?),
        _ => anyhow::bail!(
            "timing `{mode}` in its own process failed (exit {:?}):\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    }
}

fn fidelity(a: FidelityArgs) -> anyhow::Result<ExitCode> {
    use crate::transfer::conformance::l2tww_case::Generated;
    use crate::transfer::fidelity;
    let case_file = a.reference.join("l2tww_two_iterations.safetensors");
    let file = crate::models::weights::WeightFile::read(&case_file)?;
    let mut all = fidelity::reference(&a.reference, &file)?;
    let pair_sets: Vec<String> = match &a.pairs {
        Some(p) => p.split(';').map(str::to_string).collect(),
        None => vec![file.meta("pairs")?.to_string(), "4-0,9-1,14-2".to_string()],
    };
    for line in &all {
        println!("{}", serde_json::to_string(line)?);
    }
    for pairs in &pair_sets {
        for &lookahead in &a.lookahead {
            for &seed in &a.seeds {
                let g = Generated {
                    pairs: pairs.clone(),
                    lookahead,
                    batch: a.batch,
                    seed,
                };
                for line in fidelity::generated(&a.reference, &case_file, &g, a.iters)? {
                    println!("{}", serde_json::to_string(&line)?);
                    all.push(line);
                }
            }
        }
    }
    let mut cos: Vec<f64> = all.iter().map(|f| f.cosine).collect();
    let mut err: Vec<f64> = all.iter().map(|f| f.rel_err).collect();
    cos.sort_by(f64::total_cmp);
    err.sort_by(f64::total_cmp);
    let mid = |v: &[f64]| v.get(v.len() / 2).copied().unwrap_or(f64::NAN);
    println!(
        "{}",
        serde_json::json!({
            "summary": "first-order",
            "comparisons": all.len(),
            "cosine_min": cos.first(),
            "cosine_median": mid(&cos),
            "rel_err_median": mid(&err),
            "rel_err_max": err.last(),
        })
    );
    Ok(ExitCode::SUCCESS)
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
