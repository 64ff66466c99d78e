//! The command line: clap-derived arguments, one file per subcommand. Every subcommand returns
//! an exit code; errors bubble up to `main`, which prints the chain and exits 2.

mod bench;
mod cancel;
mod conformance;
mod dag;
mod data;
mod exec_stage;
mod gc;
mod info;
mod inspect;
mod models;
mod run;
mod runs;
mod show;
mod stats;
mod status;
mod train;

use crate::device::{DeviceChoice, Precision};
use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;

/// l2tww: transfer-learning studies between convolutional networks (L2T-ww and baselines).
#[derive(Debug, Parser)]
#[command(name = "l2tww", version, about)]
pub struct Cli {
    /// Options every subcommand shares.
    #[command(flatten)]
    pub global: GlobalOpts,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Device, threads and precision.
#[derive(Debug, Args, Clone)]
pub struct GlobalOpts {
    /// auto (CUDA when present), cpu, cuda or cuda:N.
    #[arg(long, global = true, default_value = "auto")]
    pub device: DeviceChoice,
    /// CPU threads for libtorch (0 = libtorch's default).
    #[arg(long, global = true, default_value_t = 0)]
    pub threads: usize,
    /// Floating-point precision: f32 (default) or f64.
    #[arg(long, global = true, default_value = "f32")]
    pub precision: Precision,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Benchmarks, one JSON line each: an L2T-ww iteration against a plain SGD step (default), or `loader`.
    Bench(bench::BenchArgs),
    /// Check l2tww against the official code's float64 reference tensors in DIR.
    Conformance(conformance::ConformanceArgs),
    /// Show the tensors (names, shapes, dtypes), parameter count and metadata of a safetensors file.
    Inspect(inspect::InspectArgs),
    /// List the model zoo, or one architecture's feature taps.
    Models(models::ModelsArgs),
    /// Source statistics: pooled features, channel means and stds, and LogME per tap of a source on a split.
    Stats(stats::StatsArgs),
    /// Train one network as a YAML file describes (data, target, sources, method, optimisation).
    Train(train::TrainArgs),
    /// Show the libtorch in use, its CUDA support and the resolved device.
    Info(info::InfoArgs),
    /// Datasets: prepare Parquet files, choose subsets, show a split.
    Data(data::DataArgs),
    /// Run a pipeline: every stale stage, in dependency order, cached by content.
    Run(run::RunArgs),
    /// The experiments table: every training instance with its labels, differing parameters, metrics, time and state.
    Runs(runs::RunsArgs),
    /// Say which stages of a pipeline are fresh or stale, and why.
    Status(status::PipelineArgs),
    /// Show a pipeline's stage graph.
    Dag(dag::DagArgs),
    /// Show where a stage's outputs are.
    Show(show::ShowArgs),
    /// Cancel the Slurm jobs `l2tww run --executor slurm` submitted for a pipeline.
    Cancel(status::PipelineArgs),
    /// Remove cache entries that no pipeline in pipelines/ reaches.
    Gc(gc::GcArgs),
    /// Run one stage instance from a job file (used by `l2tww run` and by batch jobs).
    #[command(hide = true)]
    ExecStage(exec_stage::ExecArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    crate::device::set_threads(cli.global.threads);
    match cli.command {
        Command::Bench(a) => bench::run(a, &cli.global),
        Command::Conformance(a) => conformance::run(a, &cli.global),
        Command::Inspect(a) => inspect::run(a),
        Command::Models(a) => models::run(a, &cli.global),
        Command::Stats(a) => stats::run(a, &cli.global),
        Command::Train(a) => train::run(a, &cli.global),
        Command::Info(a) => info::run(a, &cli.global),
        Command::Data(a) => data::run(a),
        Command::Run(a) => run::run(a, &cli.global),
        Command::Runs(a) => runs::run(a, &cli.global),
        Command::Status(a) => status::run(a, &cli.global),
        Command::Dag(a) => dag::run(a, &cli.global),
        Command::Show(a) => show::run(a, &cli.global),
        Command::Gc(a) => gc::run(a),
        Command::Cancel(a) => cancel::run(a, &cli.global),
        Command::ExecStage(a) => exec_stage::run(a),
    }
}
