//! A job: everything one stage instance needs to run on its own, written as JSON and handed to
//! `l2tww exec-stage` (a child process locally, a batch job under Slurm): its typed parameters
//! (their kind with them), its key, the folders of the entries it reads, the external files with
//! the hashes its key was made from, the cache, and the execution context (a concrete device,
//! the precision, the threads) chosen by the executor.

use super::super::freshness::memory_name;
use super::super::plan::{Instance, Labels, Plan};
use super::super::stages::{ProgressFn, StageContext, StageParams, Upstream, UpstreamByRole};
use crate::cache::{Explanation, Key, Store};
use crate::device::ExecContext;
use crate::error::{Error, Result};
use crate::fsx;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An external file a job reads, with the content hash its key was computed from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileRef {
    /// Its name in the key.
    pub name: String,
    /// The path.
    pub path: PathBuf,
    /// Its content hash when the pipeline was planned.
    pub hash: String,
}

/// One stage instance to run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// The pipeline's name.
    pub pipeline: String,
    /// The instance's stage.
    pub stage: String,
    /// The instance's name (`stage[label=value,…]`).
    pub instance: String,
    /// Its cache key.
    pub key: Key,
    /// Its labels.
    pub labels: Labels,
    /// Its kind and parameters, paths resolved.
    pub params: StageParams,
    /// Its inputs by parameter: the upstream instances' committed outputs.
    pub inputs: UpstreamByRole,
    /// External files it reads.
    pub files: Vec<FileRef>,
    /// The cache's root folder.
    pub cache: PathBuf,
    /// Device, precision and threads.
    pub exec: ExecContext,
    /// Recompute even when the entry exists.
    pub force: bool,
    /// The name its explanation is remembered under (for `status` to say what changed later).
    pub memory: String,
    /// What its key is made of.
    pub explanation: Explanation,
}

impl Job {
    /// Reads a job file.
    pub fn read(path: &Path) -> Result<Job> {
        let text = fsx::read(path)?;
        serde_json::from_slice(&text)
            .map_err(|e| Error::bad_file(path, format!("not a job file: {e}")))
    }

    /// Writes the job file atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).expect("jobs serialise");
        fsx::write_atomic(path, &bytes)
    }

    /// What its stage's run is given: the job's own parts, with the folders it writes into
    /// and where its progress goes.
    pub fn context<'a>(
        &'a self,
        out: &'a Path,
        work: &'a Path,
        progress: ProgressFn<'a>,
    ) -> StageContext<'a> {
        StageContext {
            pipeline: &self.pipeline,
            stage: &self.stage,
            instance: &self.instance,
            key: &self.key,
            inputs: &self.inputs,
            exec: &self.exec,
            out,
            work,
            progress,
        }
    }
}

/// The job of an instance. Its inputs' folders are where their entries are or will be
/// (`entries/<key>/out`), so a batch job can be written before its inputs are computed.
pub fn job_for(plan: &Plan, store: &Store, inst: &Instance, exec: ExecContext, force: bool) -> Job {
    let mut inputs = BTreeMap::new();
    for (role, ids) in &inst.inputs {
        let refs = ids
            .iter()
            .map(|&u| {
                let up = plan.instance(u);
                Upstream {
                    instance: up.name.clone(),
                    kind: up.kind,
                    labels: up.labels.clone(),
                    dir: store.entry_dir(&up.key).join("out"),
                }
            })
            .collect();
        inputs.insert(role.clone(), refs);
    }
    Job {
        pipeline: plan.spec.name.clone(),
        stage: plan.stage_of(inst).name.clone(),
        instance: inst.name.clone(),
        key: inst.key,
        labels: inst.labels.clone(),
        params: inst.params.clone(),
        inputs,
        files: inst
            .files
            .iter()
            .filter_map(|f| {
                Some(FileRef {
                    name: f.name.clone(),
                    path: f.path.clone(),
                    hash: f.hash.clone()?,
                })
            })
            .collect(),
        cache: store.root().to_path_buf(),
        exec,
        force,
        memory: memory_name(plan, inst),
        explanation: inst.explanation.clone(),
    }
}

/// The log file of an instance.
pub fn log_path(store: &Store, plan: &Plan, inst: &Instance) -> PathBuf {
    let safe: String = inst
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.=,".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    store
        .root()
        .join("logs")
        .join(&plan.spec.name)
        .join(format!("{safe}.log"))
}

/// Writes the job of `inst` into the cache's `jobs/` folder; returns its path.
pub fn write_job(store: &Store, job: &Job) -> Result<PathBuf> {
    let dir = store.root().join("jobs");
    fsx::create_dir_all(&dir)?;
    let path = dir.join(format!("{}.json", job.key));
    job.write(&path)?;
    Ok(path)
}
