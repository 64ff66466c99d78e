//! `l2tww show PIPELINE STAGE`: where each instance of a stage has its outputs and its log.

use super::run::plan_options;
use super::set::SetArgs;
use super::GlobalOpts;
use crate::cache::Verify;
use crate::pipeline::exec::job::log_path;
use crate::pipeline::freshness::{freshness, Freshness};
use crate::pipeline::spec::nearest;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `l2tww show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// The stage.
    pub stage: String,
    /// The cache folder.
    #[arg(long)]
    pub cache: Option<PathBuf>,
    #[command(flatten)]
    pub set: SetArgs,
}

/// `l2tww show`.
pub fn run(a: ShowArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let overrides = a.set.overrides()?;
    let loaded = crate::pipeline::load_existing(
        &a.pipeline,
        &overrides,
        a.cache.as_deref(),
        plan_options(global),
    )?;
    if let Some(note) = loaded.no_cache_note() {
        eprintln!("{note}");
    }
    let (plan, store) = (&loaded.plan, &loaded.store);
    let s = plan.stage_index(&a.stage).ok_or_else(|| {
        let names: Vec<&str> = plan.spec.stages.iter().map(|s| s.name.as_str()).collect();
        let hint = nearest(&a.stage, names.iter().copied())
            .map(|n| format!("did you mean `{n}`? "))
            .unwrap_or_default();
        anyhow::anyhow!(
            "no stage `{}` in {}; {hint}stages: {}",
            a.stage,
            a.pipeline.display(),
            names.join(", ")
        )
    })?;
    for inst in plan.instances_of(s) {
        match freshness(plan, store, inst, false, Verify::Fast)? {
            Freshness::Fresh(e) => {
                println!("{}  {}", inst.name, e.out_dir().display());
                for f in crate::fsx::read_dir_sorted(&e.out_dir())? {
                    println!(
                        "    {}",
                        f.file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    );
                }
            }
            Freshness::Stale(why) => println!("{}  (not computed: {})", inst.name, why.join("; ")),
        }
        println!("    log: {}", log_path(store, plan, inst).display());
    }
    Ok(ExitCode::SUCCESS)
}
