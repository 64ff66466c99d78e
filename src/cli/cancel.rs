//! `l2tww cancel PIPELINE`: cancels the Slurm jobs `l2tww run --executor slurm` submitted for a
//! pipeline and that are still queued or running.

use super::status::PipelineArgs;
use super::GlobalOpts;
use crate::pipeline::exec::slurm;
use std::process::ExitCode;

/// `l2tww cancel`.
pub fn run(a: PipelineArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let loaded = a.load(global)?;
    let client = crate::slurm::SlurmClient::from_env()?;
    let n = slurm::cancel(&loaded.plan, &loaded.store, &client)?;
    println!("{}: {n} job(s) cancelled", loaded.plan.spec.name);
    Ok(ExitCode::SUCCESS)
}
