//! `l2tww dag PIPELINE`: the stage graph, every instance with `--instances`, or Graphviz dot.

use super::run::plan_options;
use super::set::SetArgs;
use super::GlobalOpts;
use crate::cache::FileHashes;
use crate::pipeline::dag;
use crate::pipeline::plan::Plan;
use crate::pipeline::spec::PipelineSpec;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `l2tww dag`.
#[derive(Debug, Args)]
pub struct DagArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// List every instance with its inputs.
    #[arg(long)]
    pub instances: bool,
    /// Print Graphviz dot instead.
    #[arg(long)]
    pub dot: bool,
    #[command(flatten)]
    pub set: SetArgs,
}

/// `l2tww dag`.
pub fn run(a: DagArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let spec = PipelineSpec::read_with(&a.pipeline, &a.set.overrides()?)?;
    let plan = Plan::new(spec, &FileHashes::in_memory(), plan_options(global))?;
    if a.dot {
        print!("{}", dag::dot(&plan));
    } else {
        print!("{}", dag::text(&plan, a.instances));
    }
    Ok(ExitCode::SUCCESS)
}
