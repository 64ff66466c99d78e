//! `l2tww bench`: the cost of one L2T-ww iteration against one plain SGD step, in the paper's
//! 32×32 setting (ResNet32 source, VGG9-bn target, the 15 all-to-all pairs, T look-ahead steps)
//! on random data. The two measurements are interleaved and their medians reported, since a
//! shared machine is noisy; peak memory is the process's high-water mark.

use crate::device::describe;
use crate::error::Result;
use crate::models::{Arch, Model};
use crate::transfer::engine::step::{optimizer_for, train_step};
use crate::transfer::engine::{Batch, Method, OptimConfig};
use crate::transfer::methods::spec::L2tOptions;
use crate::transfer::methods::{BuildContext, MethodSpec};
use serde::Serialize;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// What to measure.
#[derive(Debug, Clone, Copy)]
pub struct BenchConfig {
    /// Batch size.
    pub batch: i64,
    /// Measured iterations of each kind (after one warm-up each).
    pub iters: usize,
    /// Look-ahead steps.
    pub lookahead: usize,
    /// Device.
    pub device: Device,
}

/// The JSON line `l2tww bench` prints.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    /// Batch size.
    pub batch: i64,
    /// Look-ahead steps.
    #[serde(rename = "T")]
    pub lookahead: usize,
    /// libtorch CPU threads.
    pub threads: i32,
    /// Device.
    pub device: String,
    /// Median time of one plain SGD step of VGG9-bn (ms).
    pub scratch_ms: f64,
    /// Median time of one whole L2T-ww iteration (ms).
    pub l2tww_ms: f64,
    /// l2tww_ms / scratch_ms.
    pub ratio: f64,
    /// Peak resident memory of the process (MB).
    pub peak_rss_mb: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Peak resident set size of this process in MB (0 where /proc is not available).
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// Runs the benchmark.
pub fn run(cfg: BenchConfig) -> Result<BenchResult> {
    let (dev, kind) = (cfg.device, Kind::Float);
    tch::manual_seed(0);
    let sources = [Model::new(Arch::CifarResNet(32), 200, dev, kind)?];
    let plain = Model::new(Arch::Vgg9Bn, 10, dev, kind)?;
    let target = Model::new(Arch::Vgg9Bn, 10, dev, kind)?;
    let ctx = BuildContext {
        target: &target,
        sources: &sources,
        input: 32,
        device: dev,
        kind,
        momentum: 0.9,
    };
    let spec = MethodSpec::L2tWw(L2tOptions {
        lookahead: cfg.lookahead,
        ..Default::default()
    });
    let mut l2tww = spec.build(&ctx)?;
    let mut scratch: Box<dyn Method> = MethodSpec::Scratch.build(&BuildContext {
        target: &plain,
        sources: &[],
        ..ctx
    })?;
    let optim = OptimConfig {
        lr: 0.01,
        ..Default::default()
    };
    let mut sgd_plain = optimizer_for(&plain, scratch.as_ref(), &optim);
    let mut sgd = optimizer_for(&target, l2tww.as_ref(), &optim);
    let batch = Batch {
        x: Tensor::randn([cfg.batch, 3, 32, 32], (kind, dev)),
        y: Tensor::randint(10, [cfg.batch], (Kind::Int64, dev)),
        idx: (0..cfg.batch).collect(),
    };
    let (mut t_plain, mut t_l2tww) = (Vec::new(), Vec::new());
    for i in 0..=cfg.iters {
        sync(dev);
        let start = Instant::now();
        train_step(&plain, &[], scratch.as_mut(), &mut sgd_plain, &batch, 0, i)?;
        sync(dev);
        let a = start.elapsed().as_secs_f64() * 1e3;
        let start = Instant::now();
        train_step(&target, &sources, l2tww.as_mut(), &mut sgd, &batch, 0, i)?;
        sync(dev);
        let b = start.elapsed().as_secs_f64() * 1e3;
        if i > 0 {
            t_plain.push(a);
            t_l2tww.push(b);
        }
    }
    let (scratch_ms, l2tww_ms) = (median(t_plain), median(t_l2tww));
    Ok(BenchResult {
        batch: cfg.batch,
        lookahead: cfg.lookahead,
        threads: tch::get_num_threads(),
        device: describe(dev),
        scratch_ms,
        l2tww_ms,
        ratio: l2tww_ms / scratch_ms,
        peak_rss_mb: peak_rss_mb(),
    })
}
