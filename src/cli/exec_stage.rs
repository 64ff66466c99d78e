//! `l2tww exec-stage JOB.json` (hidden): runs one stage instance from the job file `l2tww run`
//! wrote, in the execution context the job names.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `l2tww exec-stage`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The job file written by `l2tww run`.
    pub job: PathBuf,
}

/// `l2tww exec-stage`.
pub fn run(a: ExecArgs) -> anyhow::Result<ExitCode> {
    crate::pipeline::exec::stage::exec_job(&a.job)?;
    Ok(ExitCode::SUCCESS)
}
