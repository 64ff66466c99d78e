//! The Slurm executor: every stale instance of a plan becomes one `sbatch` job running
//! `l2tww exec-stage` with the same binary on the node; dependencies become `afterok`; resources
//! per kind come from the pipeline's `settings: {slurm: …}`. What was submitted is kept in
//! `cache/slurm/<pipeline>.json`, so that `status` can show queued, running, failed or done jobs
//! and `cancel` can cancel them; a re-run submits only what is still stale and not queued.
//! The cache must be on a filesystem every node sees (see `crate::cache` for what it relies on).

use super::freshness::{freshness, Freshness};
use super::local::{job_for, log_path};
use super::plan::Plan;
use crate::cache::{Store, Verify};
use crate::error::{Error, Result};
use crate::fsx;
use crate::slurm::{log_tail, JobId, JobSpec, JobState, SlurmClient};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Resources of the jobs of one kind.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Resources {
    /// Partition.
    pub partition: Option<String>,
    /// GPUs per job.
    pub gpus: Option<u32>,
    /// CPUs per job (also the stage's thread count).
    pub cpus: Option<u32>,
    /// Memory, as Slurm writes it (`16G`).
    pub mem: Option<String>,
    /// Time limit, as Slurm writes it (`4:00:00`).
    pub time: Option<String>,
    /// More `#SBATCH` options.
    #[serde(default)]
    pub extra: Vec<String>,
}

/// `settings: {slurm: …}` of a pipeline.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SlurmSettings {
    /// Resources of every job unless its kind says otherwise.
    #[serde(default)]
    pub default: Resources,
    /// Resources per kind (`train`, `source-stats`, …).
    #[serde(default)]
    pub kinds: BTreeMap<String, Resources>,
    /// A shell line run before the stage (`module load cuda`, `source ~/env.sh`).
    pub setup: Option<String>,
}

impl SlurmSettings {
    /// The settings of a plan (`settings.slurm`), defaults when absent.
    pub fn of(plan: &Plan) -> Result<SlurmSettings> {
        match plan.spec.settings.get("slurm") {
            None => Ok(SlurmSettings::default()),
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| Error::bad_file(&plan.spec.path, format!("settings.slurm: {e}"))),
        }
    }

    fn resources(&self, kind: &str) -> Resources {
        let k = self.kinds.get(kind).cloned().unwrap_or_default();
        let d = &self.default;
        Resources {
            partition: k.partition.or_else(|| d.partition.clone()),
            gpus: k.gpus.or(d.gpus),
            cpus: k.cpus.or(d.cpus),
            mem: k.mem.or_else(|| d.mem.clone()),
            time: k.time.or_else(|| d.time.clone()),
            extra: if k.extra.is_empty() {
                d.extra.clone()
            } else {
                k.extra
            },
        }
    }
}

/// One submitted instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Submitted {
    /// The instance.
    pub instance: String,
    /// Its key.
    pub key: String,
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

/// Submits every stale instance (not already queued or running); returns the submissions.
pub fn submit(
    plan: &Plan,
    store: &Store,
    client: &SlurmClient,
    force: &[usize],
) -> Result<Vec<Submitted>> {
    let settings = SlurmSettings::of(plan)?;
    let previous = submitted(store, plan);
    let live: BTreeMap<String, JobId> = {
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
            .map(|s| (s.key.clone(), JobId(s.job)))
            .collect()
    };
    let exe = std::env::current_exe().map_err(|e| Error::io("l2tww", e))?;
    let jobs_dir = store.root().join("jobs");
    fsx::create_dir_all(&jobs_dir)?;
    let mut job_of: BTreeMap<usize, JobId> = BTreeMap::new();
    let mut subs: Vec<Submitted> = Vec::new();
    for inst in &plan.instances {
        let forced = force.contains(&inst.stage);
        if let Freshness::Fresh(_) = freshness(plan, store, inst, forced, Verify::Fast)? {
            continue;
        }
        let log = log_path(store, plan, inst);
        // Still queued or running from an earlier submission: keep that job.
        let queued = live.get(&inst.key.to_string()).filter(|_| !forced).copied();
        let id = if let Some(id) = queued {
            id
        } else {
            if let Some(m) = inst.missing.first() {
                return Err(Error::Invalid(format!(
                    "{} reads {}, which does not exist",
                    inst.name,
                    m.display()
                )));
            }
            let res = settings.resources(&inst.kind.to_string());
            let threads = res.cpus.unwrap_or(1) as usize;
            let device = if res.gpus.unwrap_or(0) > 0 && inst.kind.uses_device() {
                "cuda"
            } else {
                "cpu"
            };
            let job = job_for(plan, store, inst, device, threads, forced)?;
            let job_path = jobs_dir.join(format!("{}.json", inst.key));
            job.write(&job_path)?;
            let deps: Vec<JobId> = inst
                .inputs
                .iter()
                .flat_map(|(_, v)| v.iter())
                .filter_map(|u| job_of.get(u).copied())
                .collect();
            let body = format!(
                "exec '{}' --threads {threads} exec-stage '{}'",
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
        };
        job_of.insert(inst.id, id);
        subs.push(Submitted {
            instance: inst.name.clone(),
            key: inst.key.to_string(),
            job: id.0,
            log,
        });
    }
    save(store, plan, &subs)?;
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
