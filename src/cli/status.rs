//! `l2tww status PIPELINE`: each instance fresh or stale and why (which parameter, input or file
//! changed since it last ran, a missing file), with the state of its Slurm job when one was
//! submitted. With `--check`, the exit code says whether everything is fresh (0) or not (1),
//! for scripts.

use super::run::plan_options;
use super::set::SetArgs;
use super::GlobalOpts;
use crate::cache::Verify;
use crate::pipeline::exec::slurm;
use crate::pipeline::freshness::{freshness, Freshness};
use crate::pipeline::{self, Loaded};
use crate::slurm::{JobState, SlurmClient};
use crate::verbosity;
use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A pipeline and its cache: the arguments of `l2tww cancel`, and of `status` and `runs`
/// among others.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// The cache folder.
    #[arg(long)]
    pub cache: Option<PathBuf>,
    #[command(flatten)]
    pub set: SetArgs,
}

impl PipelineArgs {
    /// The pipeline planned against its cache; these commands only look, so none is created
    /// (where there is none, that is said and every instance is stale).
    pub fn load(&self, global: &GlobalOpts) -> anyhow::Result<Loaded> {
        let cache: Option<&Path> = self.cache.as_deref();
        let overrides = self.set.overrides()?;
        let loaded =
            pipeline::load_existing(&self.pipeline, &overrides, cache, plan_options(global))?;
        if let Some(note) = loaded.no_cache_note() {
            eprintln!("{note}");
        }
        Ok(loaded)
    }
}

/// Arguments of `l2tww status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Exit 1 when any instance is stale, 0 when every one is fresh (2 for a bad pipeline), so
    /// that scripts can gate on it.
    #[arg(long)]
    pub check: bool,
}

/// The Slurm jobs submitted for the plan, by key: job id, state (with the log's tail when it
/// failed), log.
fn jobs(loaded: &Loaded) -> BTreeMap<crate::cache::Key, (u64, String, PathBuf)> {
    let subs = slurm::submitted(&loaded.store, &loaded.plan);
    if subs.is_empty() {
        return BTreeMap::new();
    }
    match SlurmClient::from_env().and_then(|c| slurm::states(&c, &subs)) {
        Ok(v) => v
            .into_iter()
            .map(|(s, st, tail)| {
                let what = match (&st, tail) {
                    (JobState::Failed { .. }, Some(t)) => format!("{st:?}; log tail:\n{t}"),
                    _ => format!("{st:?}"),
                };
                (s.key, (s.job, what, s.log))
            })
            .collect(),
        Err(e) => {
            if !verbosity::quiet() {
                println!("note: jobs were submitted to Slurm but their states are unknown: {e}");
            }
            BTreeMap::new()
        }
    }
}

/// `l2tww status`: with `-q`, only the stale instances and the count; with `-v`, each
/// instance's cache key too.
pub fn run(a: StatusArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let loaded = a.pipeline.load(global)?;
    let (plan, store) = (&loaded.plan, &loaded.store);
    let jobs = jobs(&loaded);
    let (mut fresh, mut stale) = (0, 0);
    for inst in &plan.instances {
        match freshness(plan, store, inst, false, Verify::Fast)? {
            Freshness::Fresh(_) => {
                fresh += 1;
                if !verbosity::quiet() {
                    println!("fresh  {}", inst.name);
                }
                if verbosity::verbose() {
                    println!("         key {}", inst.key);
                }
            }
            Freshness::Stale(why) => {
                stale += 1;
                println!("stale  {}", inst.name);
                if verbosity::verbose() {
                    println!("         key {}", inst.key);
                }
                for w in why {
                    println!("         {w}");
                }
                for m in inst.missing() {
                    println!("         reads {}, which does not exist", m.path.display());
                }
                if let Some((job, state, log)) = jobs.get(&inst.key) {
                    println!("         slurm job {job}: {state} (log: {})", log.display());
                }
            }
        }
    }
    println!("{}: {fresh} fresh, {stale} stale", plan.spec.name);
    Ok(if a.check && stale > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
