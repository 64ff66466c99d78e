//! `l2tww run PIPELINE`: what is stale, run by the local or the Slurm executor (or listed with
//! `--dry-run`, which also says what a run would stop at: a device that is not there, an input
//! that is not on this machine), the reports printed at the end. The device, precision and
//! threads are resolved here, once, into the run's execution context.

use super::set::SetArgs;
use super::GlobalOpts;
use crate::cache::{Store, Verify};
use crate::device::{available_threads, DeviceChoice, ExecContext};
use crate::pipeline::exec::local::{self, LocalOptions};
use crate::pipeline::exec::{checks, slurm, Outcome, RunReport, Schedule};
use crate::pipeline::plan::{Plan, PlanOptions};
use crate::pipeline::settings::Executor;
use crate::pipeline::{self, results, Loaded};
use crate::verbosity;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `l2tww run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// Run only these stages or instances (`'target[method=fm,seed=0]'`) and the stale ones
    /// they read.
    #[arg(long, num_args = 1..)]
    pub only: Vec<String>,
    /// Recompute these stages or instances even when their outputs are cached.
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
    /// Where the jobs run (default: `settings: {executor: …}` of the pipeline, else local);
    /// `slurm` submits one batch job per stale instance and returns unless --wait.
    #[arg(long, value_enum)]
    pub executor: Option<Executor>,
    /// With --executor slurm: wait for the jobs, then print the results.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub set: SetArgs,
}

/// What a plan depends on among the global options.
pub fn plan_options(global: &GlobalOpts) -> PlanOptions {
    PlanOptions {
        precision: global.precision,
    }
}

/// The run's execution context and its GPUs, resolved once: the device `--device` names (with
/// `auto`, every CUDA device there is), the precision, every thread `--threads` allows.
fn exec_context(global: &GlobalOpts) -> anyhow::Result<(ExecContext, Vec<tch::Device>)> {
    let device = global.device.resolve()?;
    let gpus = match device {
        tch::Device::Cuda(_) if matches!(global.device, DeviceChoice::Auto) => {
            let n = tch::Cuda::device_count().max(1) as usize;
            (0..n).map(tch::Device::Cuda).collect()
        }
        tch::Device::Cuda(i) => vec![tch::Device::Cuda(i)],
        _ => Vec::new(),
    };
    let threads = match global.threads {
        0 => available_threads(),
        n => n,
    };
    let exec = ExecContext {
        device,
        precision: global.precision,
        threads,
    };
    Ok((exec, gpus))
}

fn verify(a: &RunArgs) -> Verify {
    if a.verify {
        Verify::Full
    } else {
        Verify::Fast
    }
}

/// The cache key of an instance, printed under it with `-v`.
fn print_key(key: &crate::cache::Key) {
    if verbosity::verbose() {
        println!("           key {key}");
    }
}

/// Lists what would run, and what a run would stop at before starting: an input that is not on
/// this machine (a dataset not installed, a missing file) is said with its position, and the
/// file is still valid — a pipeline validates without its data.
fn dry_run(plan: &Plan, store: &Store, a: &RunArgs) -> anyhow::Result<ExitCode> {
    let schedule = Schedule::new(plan, store, &a.only, &a.force, verify(a))?;
    let mut n = 0;
    let mut absent = Vec::new();
    for (inst, o) in plan.instances.iter().zip(&schedule.outcomes) {
        match o {
            Outcome::WouldRun(why) => {
                n += 1;
                let missing: String = inst
                    .missing()
                    .map(|m| format!("; reads {} (missing)", m.path.display()))
                    .collect();
                println!("would run  {}  ({}{missing})", inst.name, why.join("; "));
                print_key(&inst.key);
                absent.extend(checks::absent(plan, inst));
            }
            Outcome::Fresh if !verbosity::quiet() => {
                println!("fresh      {}", inst.name);
                print_key(&inst.key);
            }
            _ => {}
        }
    }
    for e in &absent {
        eprintln!("missing: {e}");
    }
    let stop = match absent.len() {
        0 => String::new(),
        k => format!("; {k} input(s) not on this machine: a run would stop before starting"),
    };
    println!(
        "{}: valid; {} stage(s), {} instance(s), {n} would run{stop}",
        plan.spec.path.display(),
        plan.spec.stages.len(),
        plan.instances.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// With `-v`, the instances found fresh, which will not run.
fn print_fresh(plan: &Plan, schedule: &Schedule) {
    if !verbosity::verbose() {
        return;
    }
    for (inst, o) in plan.instances.iter().zip(&schedule.outcomes) {
        if *o == Outcome::Fresh {
            println!("fresh {}", inst.name);
            print_key(&inst.key);
        }
    }
}

/// Prints the reports' tables and where they are.
fn publish(loaded: &Loaded) -> anyhow::Result<()> {
    let (tables, dir) = results::publish(&loaded.plan, &loaded.store, &loaded.project)?;
    for (name, md) in &tables {
        println!("\n## {name}\n\n{md}");
    }
    if !tables.is_empty() {
        println!("results in {}", dir.display());
    }
    Ok(())
}

/// `l2tww run`.
pub fn run(a: RunArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let overrides = a.set.overrides()?;
    let loaded = pipeline::load(
        &a.pipeline,
        &overrides,
        a.cache.as_deref(),
        plan_options(global),
    )?;
    let (plan, store) = (&loaded.plan, &loaded.store);
    if a.dry_run {
        // The device a run would use must exist here, as the run checks it first.
        if !matches!(global.device, DeviceChoice::Auto) {
            global.device.resolve()?;
        }
        return dry_run(plan, store, &a);
    }
    let (exec, gpus) = exec_context(global)?;
    let executor = a
        .executor
        .or(plan.spec.settings.executor)
        .unwrap_or_default();
    if executor == Executor::Slurm {
        return run_slurm(&loaded, &a, exec);
    }
    let start = Instant::now();
    let _lock = store.lock(&format!("l2tww run {}", a.pipeline.display()))?;
    store.sweep_tmp()?;
    let mut schedule = Schedule::new(plan, store, &a.only, &a.force, verify(&a))?;
    schedule.check_files(plan)?;
    print_fresh(plan, &schedule);
    let opts = LocalOptions {
        jobs: a.jobs,
        exec,
        gpus,
    };
    local::run(plan, store, &mut schedule, &opts)?;
    let report: RunReport = schedule.report(start.elapsed().as_secs_f64());
    publish(&loaded)?;
    println!(
        "{}: {} ran, {} fresh, {} failed, {} skipped in {:.1} s",
        plan.spec.name,
        report.count(|o| matches!(o, Outcome::Ran)),
        report.count(|o| matches!(o, Outcome::Fresh)),
        report.count(|o| matches!(o, Outcome::Failed(..))),
        report.count(|o| matches!(o, Outcome::Skipped(_))),
        report.seconds
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

fn run_slurm(loaded: &Loaded, a: &RunArgs, exec: ExecContext) -> anyhow::Result<ExitCode> {
    let (plan, store) = (&loaded.plan, &loaded.store);
    let subs = {
        let _lock = store.lock("l2tww run --executor slurm (submitting)")?;
        let schedule = Schedule::new(plan, store, &a.only, &a.force, verify(a))?;
        schedule.check_files(plan)?;
        let client = crate::slurm::SlurmClient::from_env()?;
        let subs = slurm::submit(plan, store, &client, &schedule, exec)?;
        (client, subs)
    };
    let (client, subs) = subs;
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
    if !a.wait {
        return Ok(ExitCode::SUCCESS);
    }
    let ok = slurm::wait(&client, &subs)?;
    publish(loaded)?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
