//! [`SlurmClient`]: runs Slurm's command-line clients and turns their failures into errors
//! that name the command, how it ended and what it printed on stderr.
use super::script::render_script;
use super::spec::{JobId, JobSpec};
use super::state::{parse_sacct, parse_squeue, sacct_args, squeue_args, JobState};
use crate::error::{Error, Result};
use crate::fsx;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Talks to the Slurm cluster that the clients on `PATH` reach (through `SLURM_CONF`, or the
/// system configuration when it is unset).
#[derive(Debug, Clone, Default)]
pub struct SlurmClient {
    conf: Option<PathBuf>,
}

impl SlurmClient {
    /// A client for the binaries on `PATH`, with the environment's `SLURM_CONF` if any.
    /// Errors when `sbatch` is not on `PATH`.
    pub fn from_env() -> Result<Self> {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join("sbatch").is_file()))
            .unwrap_or(false);
        if !found {
            return Err(not_found("sbatch"));
        }
        let conf = std::env::var_os("SLURM_CONF").map(PathBuf::from);
        Ok(SlurmClient { conf })
    }

    /// The same client reading the cluster configuration `conf` (passed to every command as
    /// `SLURM_CONF`).
    pub fn with_conf(self, conf: impl Into<PathBuf>) -> Self {
        SlurmClient {
            conf: Some(conf.into()),
        }
    }

    /// The `SLURM_CONF` the commands get, if one is set.
    pub fn conf(&self) -> Option<&Path> {
        self.conf.as_deref()
    }

    /// Writes `spec`'s batch script beside its log ([`JobSpec::script_path`]), creates the
    /// log's folder, and submits the script with `sbatch --parsable`, its dependencies as
    /// `--dependency=afterok:…`. Returns the new job's id.
    pub fn submit(&self, spec: &JobSpec) -> Result<JobId> {
        let spec = spec.absolute()?;
        let script = render_script(&spec)?;
        if !spec.workdir.is_dir() {
            return Err(Error::bad_file(
                &spec.workdir,
                "the job's working folder does not exist",
            ));
        }
        fsx::create_dir_all(&fsx::parent_dir(&spec.log_path))?;
        let script_path = spec.script_path();
        fsx::write_atomic(&script_path, script.as_bytes())?;
        let mut args = vec!["--parsable".to_string()];
        if !spec.dependencies.is_empty() {
            args.push(format!(
                "--dependency=afterok:{}",
                join(&spec.dependencies, ":")
            ));
        }
        args.push(script_path.display().to_string());
        let out = self.checked("sbatch", &args)?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        stdout
            .lines()
            .next()
            .unwrap_or("")
            .parse()
            .map_err(|_| Error::Command {
                command: command_line("sbatch", &args),
                status: format!("printed {:?} instead of a job id", stdout.trim()),
                stderr: trimmed(&out.stderr),
            })
    }

    /// The state of each of `ids`: from `squeue` while the controller holds the job, then
    /// from `sacct` (or `sacct --completion` without accounting storage); [`JobState::Unknown`]
    /// with the reason when neither knows it.
    pub fn states(&self, ids: &[JobId]) -> Result<BTreeMap<JobId, JobState>> {
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let args = squeue_args(&join(ids, ","));
        let out = self.output("squeue", &args)?;
        let mut states = if out.status.success() {
            parse_squeue(&String::from_utf8_lossy(&out.stdout))
        } else if trimmed(&out.stderr).contains("Invalid job id") {
            // Every id has left the controller's memory (older than MinJobAge).
            BTreeMap::new()
        } else {
            return Err(failure("squeue", &args, &out));
        };
        states.retain(|id, _| ids.contains(id));
        let missing: Vec<JobId> = ids
            .iter()
            .filter(|id| !states.contains_key(id))
            .copied()
            .collect();
        if missing.is_empty() {
            return Ok(states);
        }
        let (found, why) = self.sacct(&join(&missing, ","));
        for id in missing {
            let state = found.get(&id).cloned().unwrap_or_else(|| {
                JobState::Unknown(format!("job {id} is not known to squeue; {why}"))
            });
            states.insert(id, state);
        }
        Ok(states)
    }

    /// Final states from accounting, and what to say about jobs it does not list.
    fn sacct(&self, ids: &str) -> (BTreeMap<JobId, JobState>, String) {
        let args = sacct_args(ids, false);
        match self.output("sacct", &args) {
            Ok(out) if out.status.success() => (
                parse_sacct(&String::from_utf8_lossy(&out.stdout)),
                "nor to sacct".into(),
            ),
            Ok(out) if trimmed(&out.stderr).contains("accounting storage is disabled") => {
                let args = sacct_args(ids, true);
                match self.checked("sacct", &args) {
                    Ok(out) => (
                        parse_sacct(&String::from_utf8_lossy(&out.stdout)),
                        "nor to sacct's job-completion log".into(),
                    ),
                    Err(e) => (BTreeMap::new(), format!("accounting is disabled and {e}")),
                }
            }
            Ok(out) => (BTreeMap::new(), failure("sacct", &args, &out).to_string()),
            Err(e) => (BTreeMap::new(), e.to_string()),
        }
    }

    /// Cancels `ids` with `scancel` (nothing to do when empty). Cancelling a finished job is
    /// not an error.
    pub fn cancel(&self, ids: &[JobId]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let args: Vec<String> = ids.iter().map(JobId::to_string).collect();
        self.checked("scancel", &args).map(|_| ())
    }

    /// Runs `program` with `args`; an error only when it cannot start.
    fn output(&self, program: &str, args: &[String]) -> Result<Output> {
        let mut cmd = Command::new(program);
        cmd.args(args);
        if let Some(conf) = &self.conf {
            cmd.env("SLURM_CONF", conf);
        }
        cmd.output().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => not_found(program),
            _ => Error::Command {
                command: command_line(program, args),
                status: format!("could not start: {e}"),
                stderr: String::new(),
            },
        })
    }

    /// Runs `program` with `args`; an error unless it exits with 0.
    fn checked(&self, program: &str, args: &[String]) -> Result<Output> {
        let out = self.output(program, args)?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(failure(program, args, &out))
        }
    }
}

fn not_found(program: &str) -> Error {
    Error::Invalid(format!(
        "{program} not found: install Slurm's client or use --executor local"
    ))
}

fn failure(program: &str, args: &[String], out: &Output) -> Error {
    let status = match out.status.code() {
        Some(code) => format!("exit code {code}"),
        None => format!("ended by a signal ({})", out.status),
    };
    Error::Command {
        command: command_line(program, args),
        status,
        stderr: trimmed(&out.stderr),
    }
}

fn command_line(program: &str, args: &[String]) -> String {
    std::iter::once(program)
        .chain(args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

fn trimmed(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

fn join(ids: &[JobId], sep: &str) -> String {
    ids.iter()
        .map(JobId::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_says_what_to_install_or_use() {
        let client = SlurmClient::default();
        let err = client
            .output("sbatch-that-does-not-exist", &[])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "sbatch-that-does-not-exist not found: install Slurm's client or use --executor local"
        );
    }

    #[test]
    fn a_failing_command_is_named_with_its_exit_code_and_stderr() {
        let client = SlurmClient::default();
        let args = vec!["-c".to_string(), "echo oops >&2; exit 4".to_string()];
        let err = client.checked("sh", &args).unwrap_err().to_string();
        assert_eq!(
            err,
            "`sh -c echo oops >&2; exit 4` failed (exit code 4): oops"
        );
    }

    #[test]
    fn nothing_is_run_for_no_jobs() {
        // An empty client with no Slurm at all: both calls must return before running anything.
        let client = SlurmClient::default();
        assert!(client.states(&[]).unwrap().is_empty());
        client.cancel(&[]).unwrap();
    }
}
