//! The local executor: starts the ready instances of a [`Schedule`] as child processes, at most
//! `-j` at once and at most one device-using stage per GPU, each with its share of the CPU
//! threads ([`Budget`]); watches them (a progress bar with its ETA each, a log file each) and
//! reports each end back to the schedule, which stops only what depends on a failure.

use super::child::{last_error, spawn, Event};
use super::job::{job_for, log_path, write_job};
use super::threads::Budget;
use super::{Outcome, Schedule};
use crate::cache::{Lookup, Store, Verify};
use crate::device::ExecContext;
use crate::error::Result;
use crate::pipeline::plan::{InstanceId, Plan};
use crate::verbosity;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Instant;

/// How the local executor runs.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// Instances run at once.
    pub jobs: usize,
    /// The run's context: precision, and every CPU thread it may use (shared out).
    pub exec: ExecContext,
    /// GPUs (concrete devices); empty: CPU only.
    pub gpus: Vec<tch::Device>,
}

struct Running {
    bar: ProgressBar,
    started: Instant,
    gpu: Option<tch::Device>,
    threads: usize,
    log: PathBuf,
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:.bold} [{bar:25}] {pos}/{len} {wide_msg} eta {eta}")
        .expect("a valid template")
        .progress_chars("=> ")
}

/// Runs the waiting instances of `schedule` until none is left.
pub fn run(plan: &Plan, store: &Store, schedule: &mut Schedule, opts: &LocalOptions) -> Result<()> {
    let multi = MultiProgress::new();
    if verbosity::quiet() || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        multi.set_draw_target(ProgressDrawTarget::hidden());
    }
    // Failures are always said; what else happens, line by line, not with `-q`.
    let fail = |line: String| {
        if multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = multi.println(line);
        }
    };
    let say = |line: String| {
        if !verbosity::quiet() {
            fail(line);
        }
    };
    let (tx, rx) = mpsc::channel::<Event>();
    let mut running: BTreeMap<InstanceId, Running> = BTreeMap::new();
    let mut budget = Budget::new(opts.exec.threads, opts.jobs);
    let mut free_gpus = opts.gpus.clone();
    loop {
        let skipped = schedule.skip_blocked(plan);
        for (i, bad) in &skipped {
            let (i, bad) = (plan.instance(*i), plan.instance(*bad));
            say(format!(
                "skip  {} (input {} did not complete)",
                i.name, bad.name
            ));
        }
        // The ready instances that can start now: a device-using one needs a free GPU.
        let mut gpus_left = free_gpus.len();
        let startable: Vec<InstanceId> = schedule
            .ready(plan)
            .into_iter()
            .filter(|&i| {
                if !plan.instance(i).kind.uses_device() || opts.gpus.is_empty() {
                    return true;
                }
                let ok = gpus_left > 0;
                gpus_left = gpus_left.saturating_sub(1);
                ok
            })
            .collect();
        let numeric: Vec<bool> = startable
            .iter()
            .map(|&i| plan.instance(i).kind.uses_device())
            .collect();
        let grants = budget.grant(&numeric);
        let tried = !grants.is_empty();
        for (i, threads) in startable.into_iter().zip(grants) {
            let inst = plan.instance(i);
            let gpu = (inst.kind.uses_device() && !opts.gpus.is_empty())
                .then(|| free_gpus.pop())
                .flatten();
            let exec = opts.exec.for_job(gpu.unwrap_or(tch::Device::Cpu), threads);
            let job = job_for(plan, store, inst, exec, schedule.is_forced(i));
            let log = log_path(store, plan, inst);
            schedule.start(i);
            let started =
                write_job(store, &job).and_then(|path| spawn(i, &job, &path, &log, tx.clone()));
            match started {
                Ok(()) => {
                    let bar = multi.add(ProgressBar::new(1));
                    bar.set_style(bar_style());
                    bar.set_prefix(inst.name.clone());
                    say(format!("run   {} (log: {})", inst.name, log.display()));
                    if verbosity::verbose() {
                        say(format!("      key {}", inst.key));
                    }
                    budget.take(threads);
                    running.insert(
                        i,
                        Running {
                            bar,
                            started: Instant::now(),
                            gpu,
                            threads,
                            log,
                        },
                    );
                }
                Err(e) => {
                    free_gpus.extend(gpu);
                    fail(format!("FAIL  {}: {e}", inst.name));
                    schedule.finish(i, Outcome::Failed(e.to_string(), log));
                }
            }
        }
        if running.is_empty() {
            if skipped.is_empty() && !tried {
                break;
            }
            continue;
        }
        match rx.recv() {
            Ok(Event::Progress(i, done, total, msg)) => {
                if let Some(r) = running.get(&i) {
                    r.bar.set_length(total.max(1));
                    r.bar.set_position(done);
                    r.bar.set_message(msg);
                }
            }
            Ok(Event::Done(i, status)) => {
                let r = running.remove(&i).expect("a running instance");
                r.bar.finish_and_clear();
                multi.remove(&r.bar);
                free_gpus.extend(r.gpu);
                budget.release(r.threads);
                let inst = plan.instance(i);
                let secs = r.started.elapsed().as_secs_f64();
                let committed = matches!(store.lookup(&inst.key, Verify::Fast)?, Lookup::Hit(_));
                let outcome = match status {
                    Ok(s) if s.success() && committed => {
                        say(format!("done  {} ({secs:.1} s)", inst.name));
                        Outcome::Ran
                    }
                    other => {
                        let why = match other {
                            Ok(s) if s.success() => {
                                "it exited without committing its output".to_string()
                            }
                            Ok(s) => {
                                last_error(&r.log).unwrap_or_else(|| format!("exit status {s}"))
                            }
                            Err(e) => e.to_string(),
                        };
                        fail(format!(
                            "FAIL  {}: {why}\n      log: {}",
                            inst.name,
                            r.log.display()
                        ));
                        Outcome::Failed(why, r.log)
                    }
                };
                schedule.finish(i, outcome);
            }
            Err(_) => break,
        }
    }
    for i in std::mem::take(&mut schedule.waiting) {
        schedule.finish(i, Outcome::Skipped("never became ready".into()));
    }
    Ok(())
}
