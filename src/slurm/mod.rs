//! A small Slurm client: submit batch jobs, read their states, cancel them, read their logs.
//!
//! A leaf module for the pipeline's Slurm executor: it knows jobs, not stages, and imports only
//! `error` and `fsx`. It drives Slurm's own command-line clients (`sbatch`, `squeue`, `sacct`,
//! `scancel`) found on `PATH`, which read `SLURM_CONF` like any Slurm client.
//!
//! How a job's state is found, in order:
//! 1. `squeue --states=all`: every job the controller still holds, finished ones included for
//!    `MinJobAge` seconds, with the raw exit status (the same records `scontrol show job` prints).
//! 2. `sacct` for the rest (needs slurmdbd), and `sacct --completion` when accounting storage is
//!    disabled but the job-completion plugin is `jobcomp/filetxt` (as on the test cluster).
//! 3. Otherwise the state is [`JobState::Unknown`], saying why.
//!
//! What Slurm does with a job whose `afterok` dependency failed: by default it stays PENDING
//! forever with reason `DependencyNeverSatisfied` ([`JobState::DependencyNeverSatisfied`]);
//! with `DependencyParameters=kill_invalid_depend` the controller cancels it instead
//! ([`JobState::Cancelled`]). Either way it never runs; the caller should cancel the former.

mod client;
mod script;
mod spec;
mod state;
mod tail;

pub use client::SlurmClient;
pub use script::render_script;
pub use spec::{JobId, JobSpec};
pub use state::JobState;
pub use tail::log_tail;
