//! `l2tww conformance DIR`: one line per case with its relative error; exit 0 when every case
//! is within tolerance, 1 otherwise (2, via the error path, for unreadable input).

use super::GlobalOpts;
use crate::device::{describe, DeviceChoice};
use crate::transfer::conformance::{run_dir, CaseResult, TOLERANCE};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `l2tww conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// Directory of reference cases (e.g. ../shared/reference).
    pub dir: PathBuf,
}

/// Runs the reference cases in float64 (every compared group of each case printed with the
/// global `-v`, only a failing case's otherwise): on the CPU unless `--device cuda[:N]` asks for a GPU
/// explicitly (`auto` stays on the CPU, where the tolerance is meant).
pub fn run(args: ConformanceArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let dev = match global.device {
        DeviceChoice::Auto => tch::Device::Cpu,
        other => other.resolve()?,
    };
    let print = |r: &CaseResult| {
        let verdict = if r.passed() { "ok" } else { "FAIL" };
        println!(
            "{:<28} rel_err {:.3e}  ({} groups)  {verdict}",
            r.name,
            r.max_err(),
            r.groups.len()
        );
        if crate::verbosity::verbose() || !r.passed() {
            for g in &r.groups {
                println!("    {:<32} {:.3e}", g.name, g.rel_err);
            }
        }
    };
    let results = run_dir(&args.dir, dev, print)?;
    let failed = results.iter().filter(|r| !r.passed()).count();
    println!(
        "{} passed, {} failed (tolerance {TOLERANCE:e}, float64, {})",
        results.len() - failed,
        failed,
        describe(dev)
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
