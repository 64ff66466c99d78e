//! The command line: clap-derived arguments, one file per subcommand. Every subcommand returns
//! an exit code; errors bubble up to `main`, which prints the chain and exits 2.

mod bench;
mod cancel;
mod completions;
mod conformance;
mod dag;
mod data;
mod examples;
mod exec_stage;
mod gc;
mod info;
mod inspect;
mod models;
mod run;
mod runs;
mod set;
mod show;
mod stats;
mod status;
mod train;

use crate::device::{DeviceChoice, Precision};
use crate::verbosity::Verbosity;
use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;

/// l2tww: transfer-learning studies between convolutional networks (L2T-ww and baselines).
#[derive(Debug, Parser)]
#[command(name = "l2tww", version = crate::VERSION, about)]
pub struct Cli {
    /// Options every subcommand shares.
    #[command(flatten)]
    pub global: GlobalOpts,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Device, threads, precision and how much is printed: accepted before or after the
/// subcommand, listed under their own heading.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
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
    /// Print only errors and results: no progress, no per-stage lines, no notes.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail: cache keys, the stages found fresh, every compared group.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

impl GlobalOpts {
    /// What `-q` and `-v` ask for.
    pub fn verbosity(&self) -> Verbosity {
        match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (_, true) => Verbosity::Verbose,
            _ => Verbosity::Normal,
        }
    }
}

/// The subcommands, the pipeline ones first.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline: every stale stage, in dependency order, cached by content.
    #[command(after_help = examples::RUN)]
    Run(run::RunArgs),
    /// The experiments table: every training instance with its labels, differing parameters, metrics, time and state.
    #[command(after_help = examples::RUNS)]
    Runs(runs::RunsArgs),
    /// Say which stages of a pipeline are fresh or stale, and why (`--check`: exit 1 when any is stale).
    #[command(after_help = examples::STATUS)]
    Status(status::StatusArgs),
    /// Show where a stage's outputs are.
    #[command(after_help = examples::SHOW)]
    Show(show::ShowArgs),
    /// Show a pipeline's stage graph.
    #[command(after_help = examples::DAG)]
    Dag(dag::DagArgs),
    /// Cancel the Slurm jobs `l2tww run --executor slurm` submitted for a pipeline.
    #[command(after_help = examples::CANCEL)]
    Cancel(status::PipelineArgs),
    /// Remove cache entries that no pipeline in pipelines/ reaches.
    #[command(after_help = examples::GC)]
    Gc(gc::GcArgs),
    /// Datasets: prepare Parquet files, choose subsets, show a split.
    #[command(after_help = examples::DATA)]
    Data(data::DataArgs),
    /// Train one network as a YAML file describes (data, target, sources, method, optimisation).
    #[command(after_help = examples::TRAIN)]
    Train(train::TrainArgs),
    /// Source statistics: pooled features, channel means and stds, and LogME per tap of a source on a split.
    #[command(after_help = examples::STATS)]
    Stats(stats::StatsArgs),
    /// List the model zoo, or one architecture's feature taps.
    #[command(after_help = examples::MODELS)]
    Models(models::ModelsArgs),
    /// Show the tensors (names, shapes, dtypes), parameter count and metadata of a safetensors file.
    #[command(after_help = examples::INSPECT)]
    Inspect(inspect::InspectArgs),
    /// Show the libtorch in use, its CUDA support and the resolved device.
    #[command(after_help = examples::INFO)]
    Info(info::InfoArgs),
    /// Benchmarks, one JSON line each: an L2T-ww iteration against a plain SGD step (default), or `loader`.
    #[command(after_help = examples::BENCH)]
    Bench(bench::BenchArgs),
    /// Check l2tww against the official code's float64 reference tensors in DIR.
    #[command(after_help = examples::CONFORMANCE)]
    Conformance(conformance::ConformanceArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell).
    #[command(after_help = examples::COMPLETIONS)]
    Completions(completions::CompletionsArgs),
    /// Run one stage instance from a job file (used by `l2tww run` and by batch jobs).
    #[command(hide = true)]
    ExecStage(exec_stage::ExecArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    crate::device::set_threads(cli.global.threads);
    crate::verbosity::set(cli.global.verbosity());
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
        Command::Completions(a) => completions::run(a),
        Command::ExecStage(a) => exec_stage::run(a),
    }
}
