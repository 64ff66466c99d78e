//! The Slurm executor: every waiting instance of a [`Schedule`] (stale and selected, checked by
//! the shared core) becomes one `sbatch` job running `l2tww exec-stage` with the same binary on
//! the node; dependencies become `afterok`; resources per kind come from the pipeline's
//! `settings: {slurm: …}`, and a job's context from them (one CUDA device when it has GPUs and
//! runs networks, its CPUs as threads). What was submitted is kept in
//! `cache/slurm/<pipeline>.json`, so that `status` can show queued, running, failed or done jobs
//! and `cancel` can cancel them; a re-run submits only what is still stale and not queued.
//! The cache must be on a filesystem every node sees (see `crate::cache` for what it relies on).

use super::job::{job_for, log_path, write_job};
use super::Schedule;
use crate::cache::{Key, Store};
use crate::device::ExecContext;
use crate::error::{Error, Result};
use crate::fsx;
use crate::pipeline::plan::{InstanceId, Plan};
use crate::slurm::{log_tail, JobId, JobSpec, JobState, SlurmClient};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One submitted instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Submitted {
    /// The instance.
    pub instance: String,
    /// Its key.
    pub key: Key,
    /// Its job.
    pub job: u64,
    /// Its log.
    pub log: PathBuf,
}

fn record_path(store: &Store, plan: &Plan) -> PathBuf {
    store
        .root()
        .join("slurm")
        .join(format!("{}.json", plan.spec.name))
}

/// What was submitted for `plan` (empty when nothing was).
pub fn submitted(store: &Store, plan: &Plan) -> Vec<Submitted> {
    std::fs::read(record_path(store, plan))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save(store: &Store, plan: &Plan, subs: &[Submitted]) -> Result<()> {
    let path = record_path(store, plan);
    fsx::create_dir_all(&fsx::parent_dir(&path))?;
    fsx::write_atomic(&path, &serde_json::to_vec_pretty(subs).expect("serialises"))
}

/// Submits every waiting instance of `schedule` not already queued or running (with the
/// context `exec`, its device and threads set per job); returns the submissions.
pub fn submit(
    plan: &Plan,
    store: &Store,
    client: &SlurmClient,
    schedule: &Schedule,
    exec: ExecContext,
) -> Result<Vec<Submitted>> {
    let settings = &plan.spec.settings.slurm;
    let previous = submitted(store, plan);
    let live: BTreeMap<Key, JobId> = {
        let ids: Vec<JobId> = previous.iter().map(|s| JobId(s.job)).collect();
        let states = if ids.is_empty() {
            BTreeMap::new()
        } else {
            client.states(&ids)?
        };
        // Jobs left waiting on a failed dependency never run: cancel them before resubmitting.
        let stuck: Vec<JobId> = states
            .iter()
            .filter(|(_, st)| **st == JobState::DependencyNeverSatisfied)
            .map(|(id, _)| *id)
            .collect();
        if !stuck.is_empty() {
            client.cancel(&stuck)?;
        }
        previous
            .iter()
            .filter(|s| {
                matches!(
                    states.get(&JobId(s.job)),
                    Some(JobState::Pending | JobState::Running)
                )
            })
            .map(|s| (s.key, JobId(s.job)))
            .collect()
    };
    let exe = std::env::current_exe().map_err(|e| Error::io("l2tww", e))?;
    let mut job_of: BTreeMap<InstanceId, JobId> = BTreeMap::new();
    let mut subs: Vec<Submitted> = Vec::new();
    for &i in &schedule.waiting {
        let inst = plan.instance(i);
        let forced = schedule.is_forced(i);
        let log = log_path(store, plan, inst);
        // Still queued or running from an earlier submission: keep that job.
        let queued = live.get(&inst.key).filter(|_| !forced).copied();
        let id = match queued {
            Some(id) => id,
            None => {
                let res = settings.resources(&inst.kind.to_string());
                let threads = res.cpus.unwrap_or(1) as usize;
                let device = if res.gpus.unwrap_or(0) > 0 && inst.kind.uses_device() {
                    tch::Device::Cuda(0)
                } else {
                    tch::Device::Cpu
                };
                let job = job_for(plan, store, inst, exec.for_job(device, threads), forced);
                let job_path = write_job(store, &job)?;
                let deps: Vec<JobId> = inst
                    .upstream()
                    .filter_map(|u| job_of.get(&u).copied())
                    .collect();
                let body = format!(
                    "exec '{}' exec-stage '{}'",
                    exe.display(),
                    job_path.display()
                );
                let spec = JobSpec {
                    name: format!("l2tww-{}", inst.key.short()),
                    script_body: body,
                    workdir: store.root().to_path_buf(),
                    log_path: log.clone(),
                    dependencies: deps,
                    partition: res.partition,
                    gpus: res.gpus,
                    cpus: res.cpus,
                    mem: res.mem,
                    time: res.time,
                    extra_lines: res.extra,
                    setup: settings.setup.clone(),
                };
                client.submit(&spec)?
            }
        };
        job_of.insert(i, id);
        subs.push(Submitted {
            instance: inst.name.clone(),
            key: inst.key,
            job: id.0,
            log,
        });
    }
    // What an earlier submission recorded for instances not submitted now (another `--only`)
    // stays, for `status` and `cancel`.
    let mut record = subs.clone();
    record.extend(
        previous
            .into_iter()
            .filter(|p| !subs.iter().any(|s| s.key == p.key)),
    );
    save(store, plan, &record)?;
    Ok(subs)
}

/// The state of each submission, with the tail of the log of failed ones.
pub fn states(
    client: &SlurmClient,
    subs: &[Submitted],
) -> Result<Vec<(Submitted, JobState, Option<String>)>> {
    let ids: Vec<JobId> = subs.iter().map(|s| JobId(s.job)).collect();
    let states = if ids.is_empty() {
        BTreeMap::new()
    } else {
        client.states(&ids)?
    };
    Ok(subs
        .iter()
        .map(|s| {
            let st = states
                .get(&JobId(s.job))
                .cloned()
                .unwrap_or(JobState::Unknown("not reported".into()));
            let tail = matches!(st, JobState::Failed { .. })
                .then(|| log_tail(&s.log, 10).unwrap_or_default());
            (s.clone(), st, tail)
        })
        .collect())
}

/// Waits until every submission is final; jobs whose dependency failed are cancelled (Slurm
/// leaves them pending for ever). Returns whether all completed.
pub fn wait(client: &SlurmClient, subs: &[Submitted]) -> Result<bool> {
    loop {
        let now = states(client, subs)?;
        let stuck: Vec<JobId> = now
            .iter()
            .filter(|(_, st, _)| *st == JobState::DependencyNeverSatisfied)
            .map(|(s, _, _)| JobId(s.job))
            .collect();
        if !stuck.is_empty() {
            client.cancel(&stuck)?;
            continue;
        }
        if now.iter().all(|(_, st, _)| st.is_final()) {
            for (s, st, tail) in &now {
                if *st != JobState::Completed {
                    eprintln!(
                        "FAIL  {} (job {}): {st:?}\n      log: {}{}",
                        s.instance,
                        s.job,
                        s.log.display(),
                        tail.as_deref()
                            .map(|t| format!("\n{t}"))
                            .unwrap_or_default()
                    );
                }
            }
            return Ok(now.iter().all(|(_, st, _)| *st == JobState::Completed));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// Cancels what was submitted for `plan` and is not final; returns how many.
pub fn cancel(plan: &Plan, store: &Store, client: &SlurmClient) -> Result<usize> {
    let live: Vec<JobId> = states(client, &submitted(store, plan))?
        .into_iter()
        .filter(|(_, st, _)| !st.is_final() || *st == JobState::DependencyNeverSatisfied)
        .map(|(s, _, _)| JobId(s.job))
        .collect();
    if !live.is_empty() {
        client.cancel(&live)?;
    }
    Ok(live.len())
}
