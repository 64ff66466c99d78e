//! `l2tww bench`: one JSON line with the cost of an L2T-ww iteration against a plain SGD step
//! (see `transfer::bench`).

use super::GlobalOpts;
use crate::transfer::bench::{run as run_bench, BenchConfig};
use clap::Args;
use std::process::ExitCode;

/// Arguments of `l2tww bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
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

/// Runs the benchmark and prints its JSON line.
pub fn run(args: BenchArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let device = global.device.resolve()?;
    let result = run_bench(BenchConfig {
        batch: args.batch,
        iters: args.iters.max(1),
        lookahead: args.lookahead,
        device,
    })?;
    println!("{}", serde_json::to_string(&result)?);
    Ok(ExitCode::SUCCESS)
}
