//! A job: everything one stage instance needs to run on its own, written as JSON and handed to
//! `l2tww exec-stage` (a child process locally, a batch job under Slurm): its parameters, the
//! folders of the entries it reads, the external files with the hashes its key was made from, the
//! cache, the device and the threads it may use.

use crate::error::{Error, Result};
use crate::fsx;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An input of a job: an upstream instance's committed output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputRef {
    /// The upstream instance's name.
    pub instance: String,
    /// Its kind.
    pub kind: String,
    /// Its labels.
    pub labels: Vec<(String, String)>,
    /// Its output folder in the cache.
    pub dir: PathBuf,
}

/// An external file a job reads, with the content hash its key was computed from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileRef {
    /// The parameter it comes from.
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
    /// The instance's name (`stage[label=value,…]`).
    pub instance: String,
    /// Its stage's kind.
    pub kind: String,
    /// Its cache key.
    pub key: String,
    /// Its labels.
    pub labels: Vec<(String, String)>,
    /// Its parameters.
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Its inputs by parameter.
    pub inputs: BTreeMap<String, Vec<InputRef>>,
    /// External files it reads.
    pub files: Vec<FileRef>,
    /// The folder the pipeline file is in (relative paths are taken from it).
    pub base: PathBuf,
    /// The cache's root folder.
    pub cache: PathBuf,
    /// Device for libtorch (`cpu`, `cuda:0`, …).
    pub device: String,
    /// CPU threads it may use.
    pub threads: usize,
    /// Recompute even when the entry exists.
    pub force: bool,
    /// The name its explanation is remembered under (for `status` to say what changed later).
    pub memory: String,
    /// What its key is made of.
    pub explanation: crate::cache::Explanation,
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

    /// The single input of parameter `role`.
    pub fn input(&self, role: &str) -> Result<&InputRef> {
        self.inputs
            .get(role)
            .and_then(|v| v.first())
            .ok_or_else(|| Error::Invalid(format!("{}: no `{role}` input", self.instance)))
    }
}
