//! `l2tww run|status|dag|gc|show|exec-stage`: the pipeline commands.

use super::GlobalOpts;
use crate::cache::Verify;
use crate::device::DeviceChoice;
use crate::pipeline::freshness::{freshness, Freshness};
use crate::pipeline::local::{self, Outcome, RunOptions};
use crate::pipeline::{self, dag, gc, results, slurm_exec};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `l2tww run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// Run only these stages (and the stale stages they read).
    #[arg(long, num_args = 1..)]
    pub only: Vec<String>,
    /// Recompute these stages even when their outputs are cached.
    #[arg(long, num_args = 1..)]
    pub force: Vec<String>,
    /// Validate and say what would run, run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Stage instances run at once.
    #[arg(short = 'j', long = "jobs", default_value_t = 1)]
    pub jobs: usize,
    /// The cache folder (default: cache/ in the project, or $L2TWW_CACHE).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Check every cached file's hash, not only its size.
    #[arg(long)]
    pub verify: bool,
    /// `local` (default, or `settings: {executor: …}` of the pipeline) or `slurm` (one batch
    /// job per stale instance; returns once submitted unless --wait).
    #[arg(long)]
    pub executor: Option<String>,
    /// With --executor slurm: wait for the jobs, then print the results.
    #[arg(long)]
    pub wait: bool,
}

/// Arguments of `l2tww status`, `dag`, `show`.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// The cache folder.
    #[arg(long)]
    pub cache: Option<PathBuf>,
}

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
}

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
}

/// Arguments of `l2tww gc`.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// The folder of pipeline files whose entries are kept.
    #[arg(long, default_value = "pipelines")]
    pub pipelines: PathBuf,
    /// The cache folder (default: cache/ beside the pipelines folder, or $L2TWW_CACHE).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Only show what would be removed.
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `l2tww exec-stage`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The job file written by `l2tww run`.
    pub job: PathBuf,
}

fn gpus(device: DeviceChoice) -> anyhow::Result<Vec<String>> {
    let d = device.resolve()?;
    Ok(match d {
        tch::Device::Cuda(_) if matches!(device, DeviceChoice::Auto) => {
            let n = tch::Cuda::device_count().max(1) as usize;
            (0..n).map(|k| format!("cuda:{k}")).collect()
        }
        tch::Device::Cuda(i) => vec![format!("cuda:{i}")],
        _ => Vec::new(),
    })
}

/// `l2tww run`.
pub fn run(a: RunArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let loaded = pipeline::load(&a.pipeline, a.cache.as_deref())?;
    let (plan, store) = (&loaded.plan, &loaded.store);
    let opts = RunOptions {
        only: a.only,
        force: a.force,
        dry_run: a.dry_run,
        jobs: a.jobs,
        threads: global.threads,
        gpus: if a.dry_run {
            Vec::new()
        } else {
            gpus(global.device)?
        },
        verify_full: a.verify,
    };
    if a.dry_run {
        let report = local::run(plan, store, &opts)?;
        let mut n = 0;
        for (inst, o) in plan.instances.iter().zip(&report.outcomes) {
            match o {
                Outcome::WouldRun(why) => {
                    n += 1;
                    let missing = inst
                        .missing
                        .iter()
                        .map(|m| format!("; reads {} (missing)", m.display()))
                        .collect::<String>();
                    println!("would run  {}  ({}{missing})", inst.name, why.join("; "));
                }
                Outcome::Fresh => println!("fresh      {}", inst.name),
                _ => {}
            }
        }
        println!(
            "{}: valid; {} stage(s), {} instance(s), {n} would run",
            plan.spec.path.display(),
            plan.spec.stages.len(),
            plan.instances.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let executor = a
        .executor
        .clone()
        .or_else(|| {
            plan.spec
                .settings
                .get("executor")
                .and_then(|v| v.as_str())
                .map(String::from)
        })
        .unwrap_or_else(|| "local".into());
    match executor.as_str() {
        "local" => {}
        "slurm" => return run_slurm(&loaded, &opts, a.wait),
        other => anyhow::bail!("unknown executor `{other}`: local or slurm"),
    }
    let _lock = store.lock(&format!("l2tww run {}", a.pipeline.display()))?;
    store.sweep_tmp()?;
    let report = local::run(plan, store, &opts)?;
    let count = |f: fn(&Outcome) -> bool| report.outcomes.iter().filter(|o| f(o)).count();
    let (ran, fresh, failed, skipped) = (
        count(|o| matches!(o, Outcome::Ran)),
        count(|o| matches!(o, Outcome::Fresh)),
        count(|o| matches!(o, Outcome::Failed(..))),
        count(|o| matches!(o, Outcome::Skipped(_))),
    );
    let (tables, dir) = results::publish(plan, store, &loaded.project)?;
    for (name, md) in &tables {
        println!("\n## {name}\n\n{md}");
    }
    if !tables.is_empty() {
        println!("results in {}", dir.display());
    }
    println!(
        "{}: {ran} ran, {fresh} fresh, {failed} failed, {skipped} skipped in {:.1} s",
        plan.spec.name, report.seconds
    );
    for (inst, o) in plan.instances.iter().zip(&report.outcomes) {
        if let Outcome::Failed(why, log) = o {
            eprintln!("failed: {}: {why}\n  log: {}", inst.name, log.display());
        }
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run_slurm(loaded: &pipeline::Loaded, opts: &RunOptions, wait: bool) -> anyhow::Result<ExitCode> {
    let (plan, store) = (&loaded.plan, &loaded.store);
    let client = crate::slurm::SlurmClient::from_env()?;
    let forced: Vec<usize> = opts
        .force
        .iter()
        .filter_map(|n| plan.stage_index(n))
        .collect();
    let subs = {
        let _lock = store.lock("l2tww run --executor slurm (submitting)")?;
        slurm_exec::submit(plan, store, &client, &forced)?
    };
    for s in &subs {
        println!(
            "submitted  {}  job {}  log {}",
            s.instance,
            s.job,
            s.log.display()
        );
    }
    println!(
        "{}: {} job(s) submitted or queued",
        plan.spec.name,
        subs.len()
    );
    if !wait {
        return Ok(ExitCode::SUCCESS);
    }
    let ok = slurm_exec::wait(&client, &subs)?;
    let (tables, dir) = results::publish(plan, store, &loaded.project)?;
    for (name, md) in &tables {
        println!("\n## {name}\n\n{md}");
    }
    if !tables.is_empty() {
        println!("results in {}", dir.display());
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `l2tww cancel`: cancels the Slurm jobs a pipeline submitted.
pub fn cancel(a: PipelineArgs) -> anyhow::Result<ExitCode> {
    let loaded = pipeline::load(&a.pipeline, a.cache.as_deref())?;
    let client = crate::slurm::SlurmClient::from_env()?;
    let n = slurm_exec::cancel(&loaded.plan, &loaded.store, &client)?;
    println!("{}: {n} job(s) cancelled", loaded.plan.spec.name);
    Ok(ExitCode::SUCCESS)
}

/// `l2tww status`.
pub fn status(a: PipelineArgs) -> anyhow::Result<ExitCode> {
    let loaded = pipeline::load(&a.pipeline, a.cache.as_deref())?;
    let (plan, store) = (&loaded.plan, &loaded.store);
    let subs = slurm_exec::submitted(store, plan);
    let jobs: std::collections::BTreeMap<String, (u64, String, PathBuf)> = if subs.is_empty() {
        Default::default()
    } else {
        match crate::slurm::SlurmClient::from_env().and_then(|c| slurm_exec::states(&c, &subs)) {
            Ok(v) => v
                .into_iter()
                .map(|(s, st, tail)| {
                    let what = match (&st, tail) {
                        (crate::slurm::JobState::Failed { .. }, Some(t)) => {
                            format!("{st:?}; log tail:\n{t}")
                        }
                        _ => format!("{st:?}"),
                    };
                    (s.key.clone(), (s.job, what, s.log))
                })
                .collect(),
            Err(e) => {
                println!("note: jobs were submitted to Slurm but their states are unknown: {e}");
                Default::default()
            }
        }
    };
    let (mut fresh, mut stale) = (0, 0);
    for inst in &plan.instances {
        match freshness(plan, store, inst, false, Verify::Fast)? {
            Freshness::Fresh(_) => {
                fresh += 1;
                println!("fresh  {}", inst.name);
            }
            Freshness::Stale(why) => {
                stale += 1;
                println!("stale  {}", inst.name);
                for w in why {
                    println!("         {w}");
                }
                for m in &inst.missing {
                    println!("         reads {}, which does not exist", m.display());
                }
                if let Some((job, state, log)) = jobs.get(&inst.key.to_string()) {
                    println!("         slurm job {job}: {state} (log: {})", log.display());
                }
            }
        }
    }
    println!("{}: {fresh} fresh, {stale} stale", plan.spec.name);
    Ok(ExitCode::SUCCESS)
}

/// `l2tww dag`.
pub fn dag(a: DagArgs) -> anyhow::Result<ExitCode> {
    let spec = pipeline::spec::PipelineSpec::read(&a.pipeline)?;
    let plan = pipeline::plan::Plan::new(spec, &pipeline::files::FileHashes::in_memory())?;
    if a.dot {
        print!("{}", dag::dot(&plan));
    } else {
        print!("{}", dag::text(&plan, a.instances));
    }
    Ok(ExitCode::SUCCESS)
}

/// `l2tww show`.
pub fn show(a: ShowArgs) -> anyhow::Result<ExitCode> {
    let loaded = pipeline::load(&a.pipeline, a.cache.as_deref())?;
    let (plan, store) = (&loaded.plan, &loaded.store);
    let s = plan.stage_index(&a.stage).ok_or_else(|| {
        let names: Vec<&str> = plan.spec.stages.iter().map(|s| s.name.as_str()).collect();
        anyhow::anyhow!(
            "no stage `{}` in {}; stages: {}",
            a.stage,
            a.pipeline.display(),
            names.join(", ")
        )
    })?;
    for &i in &plan.by_stage[s] {
        let inst = &plan.instances[i];
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
        println!("    log: {}", local::log_path(store, plan, inst).display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `l2tww gc`.
pub fn gc(a: GcArgs) -> anyhow::Result<ExitCode> {
    let project = std::fs::canonicalize(&a.pipelines)
        .ok()
        .and_then(|p| p.parent().map(|q| q.to_path_buf()))
        .unwrap_or_else(|| PathBuf::from("."));
    let root = a
        .cache
        .clone()
        .unwrap_or_else(|| pipeline::cache_root(&project));
    let store = crate::cache::Store::open(&root)?;
    let _lock = (!a.dry_run).then(|| store.lock("l2tww gc")).transpose()?;
    let hashes = pipeline::files::FileHashes::open(&root);
    let keep = gc::reachable(&a.pipelines, &hashes)?;
    let doomed = gc::unreachable(&store, &keep)?;
    let bytes: u64 = doomed.iter().map(|e| e.bytes).sum();
    for e in &doomed {
        let what = e
            .meta
            .get("instance")
            .and_then(|v| v.as_str())
            .unwrap_or("?");
        let pipe = e
            .meta
            .get("pipeline")
            .and_then(|v| v.as_str())
            .unwrap_or("?");
        println!(
            "{} {}  {pipe}: {what}  {:.1} MB",
            if a.dry_run { "would remove" } else { "remove" },
            e.key.short(),
            e.bytes as f64 / 1e6
        );
    }
    if !a.dry_run {
        for e in &doomed {
            store.remove(&e.key)?;
        }
    }
    println!(
        "{} entr{} ({:.1} MB) {}; {} kept",
        doomed.len(),
        if doomed.len() == 1 { "y" } else { "ies" },
        bytes as f64 / 1e6,
        if a.dry_run {
            "would be removed"
        } else {
            "removed"
        },
        keep.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `l2tww exec-stage`.
pub fn exec(a: ExecArgs) -> anyhow::Result<ExitCode> {
    crate::pipeline::exec::exec_job(&a.job)?;
    Ok(ExitCode::SUCCESS)
}
