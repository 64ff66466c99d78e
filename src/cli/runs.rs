//! `l2tww runs PIPELINE`: the experiments table of a pipeline — every training instance with its
//! labels, the parameters that differ between them, its metrics, time and state — as an aligned
//! table, CSV, JSON or Markdown.

use super::status::PipelineArgs;
use super::GlobalOpts;
use crate::pipeline::runs::runs_table;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `l2tww runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// CSV instead of the aligned table.
    #[arg(long, conflicts_with_all = ["json", "md"])]
    pub csv: bool,
    /// JSON (an array of objects, null for absent metrics).
    #[arg(long, conflicts_with = "md")]
    pub json: bool,
    /// Markdown.
    #[arg(long)]
    pub md: bool,
    /// Sort the rows by this column (numbers ascending, empty cells last).
    #[arg(long, value_name = "COL")]
    pub sort_by: Option<String>,
    /// Only the columns whose value differs between the rows.
    #[arg(long)]
    pub only_changed: bool,
}

/// `l2tww runs`.
pub fn run(a: RunsArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let loaded = a.pipeline.load(global)?;
    let mut table = runs_table(&loaded.plan, &loaded.store)?;
    if let Some(col) = &a.sort_by {
        table.sort_by(col)?;
    }
    if a.only_changed {
        table.only_changed();
    }
    let text = if a.csv {
        table.csv()
    } else if a.json {
        table.json()
    } else if a.md {
        table.markdown()
    } else {
        table.text()
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
