//! `l2tww conformance DIR`: one line per case with its relative error; exit 0 when every case
//! is within tolerance, 1 otherwise (2, via the error path, for unreadable input).

use crate::transfer::conformance::{run_dir, CaseResult, TOLERANCE};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `l2tww conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// Directory of reference cases (e.g. ../shared/reference).
    pub dir: PathBuf,
    /// Also print every compared group of each case.
    #[arg(short, long)]
    pub verbose: bool,
}

/// Runs the reference cases. They always run on the CPU in float64, whatever --device says:
/// the tolerance is only meaningful there.
pub fn run(args: ConformanceArgs) -> anyhow::Result<ExitCode> {
    let print = |r: &CaseResult| {
        let verdict = if r.passed() { "ok" } else { "FAIL" };
        println!(
            "{:<28} rel_err {:.3e}  ({} groups)  {verdict}",
            r.name,
            r.max_err(),
            r.groups.len()
        );
        if args.verbose || !r.passed() {
            for g in &r.groups {
                println!("    {:<32} {:.3e}", g.name, g.rel_err);
            }
        }
    };
    let results = run_dir(&args.dir, print)?;
    let failed = results.iter().filter(|r| !r.passed()).count();
    println!(
        "{} passed, {} failed (tolerance {TOLERANCE:e}, float64, cpu)",
        results.len() - failed,
        failed
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
