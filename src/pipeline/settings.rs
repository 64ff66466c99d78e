//! `settings:` of a pipeline, typed when the file is read (errors point at the value): the
//! executor (`local` or `slurm`, a value of `--executor` too) and the Slurm resources per kind.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a run's jobs execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Executor {
    /// Child processes of `l2tww run` on this machine.
    #[default]
    Local,
    /// One `sbatch` job per stale instance.
    Slurm,
}

/// A pipeline's `settings:`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// The executor when `--executor` is not given.
    #[serde(default)]
    pub executor: Option<Executor>,
    /// Resources of the Slurm jobs.
    #[serde(default)]
    pub slurm: SlurmSettings,
}

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
    /// The resources of a job of `kind`: the kind's, else the default's, field by field.
    pub fn resources(&self, kind: &str) -> Resources {
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
