//! What a job is: its Slurm id ([`JobId`]) and what to submit ([`JobSpec`]).
use crate::error::{Error, Result};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A Slurm job id, as `sbatch --parsable` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for JobId {
    type Err = Error;

    /// Parses `123`, or `123;cluster` as `sbatch --parsable` prints on federated clusters.
    fn from_str(s: &str) -> Result<Self> {
        let id = s.trim().split(';').next().unwrap_or("");
        id.parse()
            .map(JobId)
            .map_err(|_| Error::Invalid(format!("`{s}` is not a Slurm job id")))
    }
}

/// One batch job to submit: the shell to run and the resources it asks for.
///
/// Paths may be relative to the submitting process's folder; they are made absolute before
/// submission. Optional resources that are `None` are left to the cluster's defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobSpec {
    /// The job name (`--job-name`): printable, no spaces or quotes.
    pub name: String,
    /// The shell run on the node after the set-up line, under `set -e`.
    pub script_body: String,
    /// The folder the job runs in (`--chdir`); it must exist.
    pub workdir: PathBuf,
    /// Where the job's stdout and stderr go (`--output`); its folder is created.
    pub log_path: PathBuf,
    /// Jobs that must all complete successfully first (`--dependency=afterok:…`).
    pub dependencies: Vec<JobId>,
    /// The partition (`--partition`).
    pub partition: Option<String>,
    /// GPUs per job (`--gres=gpu:N`).
    pub gpus: Option<u32>,
    /// CPUs for the job's one task (`--cpus-per-task`).
    pub cpus: Option<u32>,
    /// Memory per node, as Slurm writes it: `4000` (MB), `16G`, `512M` (`--mem`).
    pub mem: Option<String>,
    /// Time limit, as Slurm writes it: `90`, `2:00:00`, `1-12:00:00` (`--time`).
    pub time: Option<String>,
    /// More `#SBATCH` options, with or without the `#SBATCH ` prefix (`--qos=long`).
    pub extra_lines: Vec<String>,
    /// A shell line that prepares the environment (`module load …`, `source venv/bin/activate`);
    /// the job stops with an error when it fails.
    pub setup: Option<String>,
}

impl JobSpec {
    /// A job named `name` running `script_body` in `workdir`, logging to `log_path`, with no
    /// dependencies and the cluster's default resources.
    pub fn new(
        name: impl Into<String>,
        script_body: impl Into<String>,
        workdir: impl Into<PathBuf>,
        log_path: impl Into<PathBuf>,
    ) -> Self {
        JobSpec {
            name: name.into(),
            script_body: script_body.into(),
            workdir: workdir.into(),
            log_path: log_path.into(),
            ..JobSpec::default()
        }
    }

    /// Where the batch script is written: beside the log, with the extension `sbatch`
    /// (`stage.log` → `stage.sbatch`).
    pub fn script_path(&self) -> PathBuf {
        self.log_path.with_extension("sbatch")
    }

    /// The same job with `workdir` and `log_path` made absolute against the current folder.
    pub fn absolute(&self) -> Result<JobSpec> {
        let abs = |p: &Path| std::path::absolute(p).map_err(|e| Error::io(p, e));
        Ok(JobSpec {
            workdir: abs(&self.workdir)?,
            log_path: abs(&self.log_path)?,
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_parse_plain_and_federated_sbatch_output() {
        assert_eq!("42\n".parse::<JobId>().unwrap(), JobId(42));
        assert_eq!("7;cluster1".parse::<JobId>().unwrap(), JobId(7));
        assert!("Submitted batch job 3".parse::<JobId>().is_err());
    }

    #[test]
    fn the_script_sits_beside_the_log() {
        let spec = JobSpec::new("a", "true", "/w", "/w/logs/a.log");
        assert_eq!(spec.script_path(), PathBuf::from("/w/logs/a.sbatch"));
    }

    #[test]
    fn relative_paths_become_absolute() {
        let spec = JobSpec::new("a", "true", ".", "logs/a.log")
            .absolute()
            .unwrap();
        assert!(spec.workdir.is_absolute() && spec.log_path.is_absolute());
        assert!(spec.log_path.ends_with("logs/a.log"));
    }
}
