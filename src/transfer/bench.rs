//! `l2tww bench`: the cost of one L2T-ww iteration against one plain SGD step, in the paper's
//! 32×32 setting (ResNet32 source, VGG9-bn target, the 15 all-to-all pairs, T look-ahead steps)
//! on random data, for a mode of the meta-gradient (exact or first-order, with a meta step on
//! every batch or every k-th: the time per batch averaged over k batches). The plain step and
//! the iteration are interleaved and their medians reported, since a shared machine is noisy;
//! peak memory is the process's high-water mark; `phases` splits the iteration into its phases.
//! Several modes are best timed one process each (the CLI does; [`combine`] joins their lines):
//! in one process their networks, replicas and graphs are all alive and slow each other (the
//! exact iteration measured 16 plain steps among the four modes and 12 alone).

use crate::device::describe;
use crate::error::Result;
use crate::models::{Arch, Model};
use crate::transfer::engine::step::{optimizer_for, train_step};
use crate::transfer::engine::{Batch, Method, OptimConfig};
use crate::transfer::methods::l2tww::MetaGradient;
use crate::transfer::methods::spec::L2tOptions;
use crate::transfer::methods::{BuildContext, MethodSpec};
use crate::transfer::phases::recording;
use serde::{Deserialize, Serialize};
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Batch size.
    pub batch: i64,
    /// Measured iterations of each kind (after one warm-up each).
    pub iters: usize,
    /// Look-ahead steps.
    pub lookahead: usize,
    /// Device.
    pub device: Device,
    /// The modes to time (the first is the one the top-level fields report).
    pub modes: Vec<Mode>,
    /// Also time the phases of each mode's iteration (see `transfer::phases`).
    pub phases: bool,
}

/// A mode of the L2T-ww iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Mode {
    /// Exact or first-order.
    pub meta_gradient: MetaGradient,
    /// A meta step on every k-th batch.
    pub meta_every: usize,
}

impl Mode {
    /// Every mode `l2tww bench` times by default: exact and first-order, with a meta step on
    /// every batch and on every second.
    pub fn all() -> Vec<Mode> {
        let mut v = Vec::new();
        for meta_every in [1, 2] {
            for meta_gradient in [MetaGradient::Exact, MetaGradient::FirstOrder] {
                v.push(Mode {
                    meta_gradient,
                    meta_every,
                });
            }
        }
        v
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = match self.meta_gradient {
            MetaGradient::Exact => "exact",
            MetaGradient::FirstOrder => "first-order",
        };
        match self.meta_every {
            1 => write!(f, "{g}"),
            k => write!(f, "{g}, meta-every {k}"),
        }
    }
}

/// The time of one mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModeTime {
    /// The mode, as text (`first-order, meta-every 2`).
    pub mode: String,
    /// Its settings.
    #[serde(flatten)]
    pub settings: Mode,
    /// Median time per training batch (ms), meta steps included (amortised over k batches).
    pub ms: f64,
    /// ms over the plain step's.
    pub ratio: f64,
    /// Median minor page faults per training batch: memory the process had to take from the
    /// kernel again (each one a zeroed page) rather than reuse.
    pub page_faults: f64,
    /// When the mode ran in a process of its own: that process's plain step (ms), which
    /// `ratio` divides by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scratch_ms: Option<f64>,
    /// When the mode ran in a process of its own: that process's peak memory (MB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_mb: Option<f64>,
    /// With `phases`: the median time of each phase per batch, in the order they run, and the
    /// rest of the batch's time (`glue`: what no phase covers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<Vec<PhaseTime>>,
}

/// The time of one phase of an iteration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseTime {
    /// Its name (`look-ahead step 2 (WFM)`, `Hessian-vector product of step 3`, …).
    pub phase: String,
    /// Median ms per batch.
    pub ms: f64,
    /// ms over the plain step's.
    pub plain_steps: f64,
}

/// The JSON line `l2tww bench` prints.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Every mode timed (the first is `l2tww_ms`).
    pub modes: Vec<ModeTime>,
    /// Peak resident memory of the process (MB).
    pub peak_rss_mb: f64,
}

/// The upper of the two middle values for an even count (the per-iteration and per-mode medians
/// `bench` has always reported); [`Spread`] takes their mean.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The median (the mean of the middle two of an even count), minimum and maximum of some values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// The median.
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; None when there are none.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => v[n / 2],
            _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[n - 1],
        })
    }
}

/// One side of a `bench --beside` round: an iteration's milliseconds, and where its line gives
/// them, its multiple of its own plain step and its peak memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Side {
    /// The iteration (ms).
    pub ms: f64,
    /// The iteration over its own process's plain step (the line's `ratio`).
    pub plain_steps: Option<f64>,
    /// The process's peak resident memory (MB).
    pub peak_rss_mb: Option<f64>,
}

impl Side {
    /// From a JSON line with `l2tww_ms` (and optionally `ratio`, `peak_rss_mb`); None without it.
    pub fn of_line(line: &serde_json::Value) -> Option<Side> {
        Some(Side {
            ms: line["l2tww_ms"].as_f64()?,
            plain_steps: line["ratio"].as_f64(),
            peak_rss_mb: line["peak_rss_mb"].as_f64(),
        })
    }
}

/// l2tww's side and the outside command's, of some measure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BothSides<T> {
    /// l2tww's.
    pub l2tww: T,
    /// The outside command's.
    pub beside: T,
}

/// `bench --rounds R --beside CMD` summed up: l2tww's iteration against the outside command's
/// (its JSON line's `l2tww_ms`), round by round, since only ratios within a round are free of the
/// machine's drift between rounds; and each side's iteration in its own plain steps and its peak
/// memory, where both lines give them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BesideSummary {
    /// Rounds whose outside line gave an `l2tww_ms`.
    pub rounds: usize,
    /// l2tww's `l2tww_ms` over the outside one, per round.
    pub per_round: Vec<f64>,
    /// Their spread over the rounds.
    pub l2tww_over_beside: Spread,
    /// l2tww's iteration (ms) over the rounds.
    pub l2tww_ms: Spread,
    /// The outside command's iteration (ms) over the rounds.
    pub beside_ms: Spread,
    /// Each side's iteration in plain steps of its own process, over the rounds that give it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plain_steps: Option<BothSides<Spread>>,
    /// Each side's largest peak memory (MB) over the rounds that give it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss_mb: Option<BothSides<f64>>,
}

impl BesideSummary {
    /// From each round's (l2tww's side, the outside command's); None without a round.
    pub fn of(rounds: &[(Side, Side)]) -> Option<BesideSummary> {
        let per_round: Vec<f64> = rounds.iter().map(|(a, b)| a.ms / b.ms).collect();
        let both = |get: fn(&Side) -> Option<f64>| {
            let l2tww: Vec<f64> = rounds.iter().filter_map(|r| get(&r.0)).collect();
            let beside: Vec<f64> = rounds.iter().filter_map(|r| get(&r.1)).collect();
            (l2tww, beside)
        };
        let (ours_ms, theirs_ms) = both(|s| Some(s.ms));
        let (ours, theirs) = both(|s| s.plain_steps);
        let plain_steps = Spread::of(&ours)
            .zip(Spread::of(&theirs))
            .map(|(l2tww, beside)| BothSides { l2tww, beside });
        let (ours, theirs) = both(|s| s.peak_rss_mb);
        let max = |v: &[f64]| v.iter().copied().reduce(f64::max);
        let peak_rss_mb = max(&ours)
            .zip(max(&theirs))
            .map(|(l2tww, beside)| BothSides { l2tww, beside });
        Some(BesideSummary {
            rounds: rounds.len(),
            l2tww_over_beside: Spread::of(&per_round)?,
            l2tww_ms: Spread::of(&ours_ms)?,
            beside_ms: Spread::of(&theirs_ms)?,
            per_round,
            plain_steps,
            peak_rss_mb,
        })
    }
}

/// The phases of one measured iteration of k batches, each summed over them and divided by k,
/// in the order they first ran.
fn per_batch(recorded: Vec<(String, f64)>, k: usize) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for (name, ms) in recorded {
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += ms,
            None => out.push((name, ms)),
        }
    }
    for (_, ms) in &mut out {
        *ms /= k as f64;
    }
    out
}

/// The median of each phase over the measured iterations (`per_iter`, with their times
/// `totals`), and of the glue (an iteration's time less its phases').
fn phase_medians(
    per_iter: &[Vec<(String, f64)>],
    totals: &[f64],
    scratch_ms: f64,
) -> Vec<PhaseTime> {
    let mut names: Vec<&str> = Vec::new();
    for it in per_iter {
        for (n, _) in it {
            if !names.contains(&n.as_str()) {
                names.push(n);
            }
        }
    }
    let of = |ms: f64, phase: &str| PhaseTime {
        phase: phase.to_string(),
        ms,
        plain_steps: ms / scratch_ms,
    };
    let mut out: Vec<PhaseTime> = names
        .iter()
        .map(|name| {
            let v = per_iter
                .iter()
                .map(|it| {
                    it.iter()
                        .find(|(n, _)| n == name)
                        .map_or(0.0, |(_, ms)| *ms)
                })
                .collect();
            of(median(v), name)
        })
        .collect();
    let glue = per_iter
        .iter()
        .zip(totals)
        .map(|(it, total)| total - it.iter().map(|(_, ms)| ms).sum::<f64>())
        .collect();
    out.push(of(median(glue), "glue"));
    out
}

/// One line from the lines of single-mode runs, each in its own process: their modes in order,
/// each with its own process's plain step (its `ratio` divides by that) and peak memory; the
/// top-level plain step is their median, the peak memory their maximum, and `l2tww_ms` and
/// `ratio` the first mode's.
pub fn combine(runs: Vec<BenchResult>) -> Option<BenchResult> {
    let first = runs.first()?.clone();
    let modes: Vec<ModeTime> = runs
        .iter()
        .flat_map(|r| {
            r.modes.iter().map(|m| ModeTime {
                scratch_ms: Some(r.scratch_ms),
                peak_rss_mb: Some(r.peak_rss_mb),
                ..m.clone()
            })
        })
        .collect();
    let scratch_ms = median(runs.iter().map(|r| r.scratch_ms).collect());
    let peak_rss_mb = runs.iter().map(|r| r.peak_rss_mb).fold(0.0, f64::max);
    Some(BenchResult {
        scratch_ms,
        l2tww_ms: first.l2tww_ms,
        ratio: first.ratio,
        modes,
        peak_rss_mb,
        ..first
    })
}

/// Minor page faults of this process so far, all threads (0 where `getrusage` is unavailable).
fn minor_faults() -> f64 {
    #[cfg(unix)]
    {
        // SAFETY: `getrusage` fills the zeroed struct it is given and reads nothing else.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            return usage.ru_minflt as f64;
        }
    }
    0.0
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
    let optim = OptimConfig {
        lr: 0.01,
        ..Default::default()
    };
    let mut scratch: Box<dyn Method> = MethodSpec::Scratch.build(&BuildContext {
        target: &plain,
        sources: &[],
        input: 32,
        device: dev,
        kind,
        momentum: 0.9,
    })?;
    let mut sgd_plain = optimizer_for(&plain, scratch.as_ref(), &optim);
    let mut runs = Vec::new();
    for mode in &cfg.modes {
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
            meta_gradient: mode.meta_gradient,
            meta_every: mode.meta_every,
            ..Default::default()
        });
        let method = spec.build(&ctx)?;
        let sgd = optimizer_for(&target, method.as_ref(), &optim);
        runs.push((target, method, sgd, Vec::new(), Vec::new(), Vec::new()));
    }
    let batch = Batch {
        x: Tensor::randn([cfg.batch, 3, 32, 32], (kind, dev)),
        y: Tensor::randint(10, [cfg.batch], (Kind::Int64, dev)),
        idx: (0..cfg.batch).collect(),
    };
    let mut t_plain = Vec::new();
    for i in 0..=cfg.iters {
        sync(dev);
        let start = Instant::now();
        train_step(&plain, &[], scratch.as_mut(), &mut sgd_plain, &batch, 0, i)?;
        sync(dev);
        let a = start.elapsed().as_secs_f64() * 1e3;
        if i > 0 {
            t_plain.push(a);
        }
        for (mode, (target, method, sgd, times, phases, faults)) in
            cfg.modes.iter().zip(runs.iter_mut())
        {
            // k batches: one meta step among them.
            let k = mode.meta_every;
            let faults_before = minor_faults();
            let start = Instant::now();
            let mut batches = || -> Result<()> {
                for j in 0..k {
                    train_step(target, &sources, method.as_mut(), sgd, &batch, 0, i + j)?;
                }
                Ok(())
            };
            let recorded = if cfg.phases {
                let (done, recorded) = recording(dev, batches);
                done?;
                recorded
            } else {
                batches()?;
                Vec::new()
            };
            sync(dev);
            if i > 0 {
                times.push(start.elapsed().as_secs_f64() * 1e3 / k as f64);
                faults.push((minor_faults() - faults_before) / k as f64);
                phases.push(per_batch(recorded, k));
            }
        }
    }
    let scratch_ms = median(t_plain);
    let modes: Vec<ModeTime> = cfg
        .modes
        .iter()
        .zip(runs)
        .map(|(m, (_, _, _, times, phases, faults))| {
            let ms = median(times.clone());
            ModeTime {
                mode: m.to_string(),
                settings: *m,
                ms,
                ratio: ms / scratch_ms,
                page_faults: median(faults),
                scratch_ms: None,
                peak_rss_mb: None,
                phases: cfg
                    .phases
                    .then(|| phase_medians(&phases, &times, scratch_ms)),
            }
        })
        .collect();
    let l2tww_ms = modes.first().map_or(f64::NAN, |m| m.ms);
    Ok(BenchResult {
        batch: cfg.batch,
        lookahead: cfg.lookahead,
        threads: tch::get_num_threads(),
        device: describe(dev),
        scratch_ms,
        l2tww_ms,
        ratio: l2tww_ms / scratch_ms,
        modes,
        peak_rss_mb: peak_rss_mb(),
    })
}

#[cfg(test)]
mod spread_tests {
    use super::{BesideSummary, Side, Spread};

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let s = Spread::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.5, 1.0, 4.0));
        let s = Spread::of(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (3.0, 1.0, 5.0));
        assert_eq!(Spread::of(&[]), None);
    }

    fn side(ms: f64, plain_steps: Option<f64>, peak_rss_mb: Option<f64>) -> Side {
        Side {
            ms,
            plain_steps,
            peak_rss_mb,
        }
    }

    #[test]
    fn a_summary_divides_within_each_round() {
        let rounds = [
            (
                side(6.0, Some(11.0), Some(1900.0)),
                side(10.0, Some(16.0), None),
            ),
            (
                side(9.0, Some(12.0), Some(1950.0)),
                side(10.0, Some(15.0), None),
            ),
            (
                side(4.0, Some(13.0), Some(1920.0)),
                side(5.0, Some(17.0), None),
            ),
        ];
        let s = BesideSummary::of(&rounds).unwrap();
        assert_eq!(s.per_round, vec![0.6, 0.9, 0.8]);
        assert_eq!(s.l2tww_over_beside.median, 0.8);
        assert_eq!(s.l2tww_ms.median, 6.0);
        assert_eq!(s.beside_ms.max, 10.0);
        let steps = s.plain_steps.unwrap();
        assert_eq!((steps.l2tww.median, steps.beside.median), (12.0, 16.0));
        // The outside lines give no peak memory: there is nothing to set side by side.
        assert_eq!(s.peak_rss_mb, None);
        assert!(BesideSummary::of(&[]).is_none());
    }

    #[test]
    fn a_side_is_read_from_a_line_with_its_milliseconds() {
        let line = serde_json::json!({"l2tww_ms": 900.0, "ratio": 15.5, "peak_rss_mb": 2000});
        assert_eq!(
            Side::of_line(&line),
            Some(side(900.0, Some(15.5), Some(2000.0)))
        );
        assert_eq!(Side::of_line(&serde_json::json!({"ms": 900.0})), None);
    }
}
