//! What a stage kind is given when it runs, besides its parameters: where it sits (pipeline,
//! stage, instance), its key, the committed outputs of the instances it reads ([`Upstream`], by
//! input parameter), the execution context, its output and work folders, and a progress
//! callback ([`StageContext`]). The executor's job builds it; this file imports nothing from
//! the planner or the executor.

use crate::cache::Key;
use crate::device::ExecContext;
use crate::error::{Error, Result};
use crate::pipeline::kinds::Kind;
use crate::pipeline::labels::Labels;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Progress of a running stage: done, total, a short message.
pub type ProgressFn<'a> = &'a mut dyn FnMut(u64, u64, &str);

/// An upstream instance's committed output, as a running stage reads it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upstream {
    /// The upstream instance's name.
    pub instance: String,
    /// Its kind.
    pub kind: Kind,
    /// Its labels.
    pub labels: Labels,
    /// Its output folder in the cache.
    pub dir: PathBuf,
}

/// The upstream outputs of an instance by input parameter.
pub type UpstreamByRole = BTreeMap<String, Vec<Upstream>>;

/// What a running stage is given.
pub struct StageContext<'a> {
    /// The pipeline's name.
    pub pipeline: &'a str,
    /// The instance's stage.
    pub stage: &'a str,
    /// The instance's name (`stage[label=value,…]`).
    pub instance: &'a str,
    /// Its cache key.
    pub key: &'a Key,
    /// The outputs it reads, by input parameter.
    pub inputs: &'a UpstreamByRole,
    /// Device, precision and threads.
    pub exec: &'a ExecContext,
    /// The output folder (committed to the cache afterwards).
    pub out: &'a Path,
    /// A work folder that survives crashes (checkpoints), cleared after the commit.
    pub work: &'a Path,
    /// Progress reports.
    pub progress: ProgressFn<'a>,
}

impl<'a> StageContext<'a> {
    /// The single input of parameter `role`.
    pub fn input(&self, role: &str) -> Result<&'a Upstream> {
        self.inputs
            .get(role)
            .and_then(|v| v.first())
            .ok_or_else(|| Error::Invalid(format!("{}: no `{role}` input", self.instance)))
    }

    /// Every input of parameter `role` (none when it reads nothing).
    pub fn inputs_of(&self, role: &str) -> &'a [Upstream] {
        self.inputs.get(role).map(Vec::as_slice).unwrap_or_default()
    }
}
