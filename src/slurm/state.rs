//! A job's state ([`JobState`]) and the parsing of what `squeue` and `sacct` print about it.
//!
//! The exact invocations live here beside their parsers, so that the format asked for and the
//! format read cannot drift apart; the fixtures under `tests/slurm/fixtures/` are real outputs
//! of these commands on the test cluster (Slurm 22.05).
use super::spec::JobId;
use std::collections::BTreeMap;

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Waiting to start (queued, held or requeued).
    Pending,
    /// Started and not finished (also completing, suspended).
    Running,
    /// Finished with exit code 0.
    Completed,
    /// Finished without success: a non-zero exit, a signal, a time limit, out of memory, a
    /// node failure.
    Failed {
        /// The script's exit code; `None` when a signal killed it.
        exit_code: Option<i32>,
        /// Slurm's state and reason, e.g. `FAILED (NonZeroExitCode)`, `TIMEOUT`,
        /// `FAILED (JobLaunchFailure), killed by signal 9`.
        reason: String,
    },
    /// Cancelled (by `scancel`, or by Slurm for a dependency that can never be met when the
    /// cluster sets `kill_invalid_depend`).
    Cancelled,
    /// Pending behind a dependency that failed: it will never run, and stays queued until
    /// cancelled.
    DependencyNeverSatisfied,
    /// Slurm no longer knows the job, or said something not understood; the text says what.
    Unknown(String),
}

impl JobState {
    /// Whether the job will not change state any more by itself.
    pub fn is_final(&self) -> bool {
        !matches!(self, JobState::Pending | JobState::Running)
    }

    /// The state from Slurm's state name (`COMPLETED`, `CANCELLED by 0`), its reason
    /// (`None` when there is none) and the script's exit code and signal.
    fn from_slurm(state: &str, reason: &str, code: i32, signal: i32) -> JobState {
        let name = state.split_whitespace().next().unwrap_or("");
        match name {
            "PENDING" if reason == "DependencyNeverSatisfied" => JobState::DependencyNeverSatisfied,
            "PENDING" | "CONFIGURING" | "REQUEUED" | "REQUEUE_FED" | "REQUEUE_HOLD"
            | "RESV_DEL_HOLD" => JobState::Pending,
            "RUNNING" | "COMPLETING" | "SUSPENDED" | "STOPPED" | "STAGE_OUT" | "SIGNALING"
            | "RESIZING" => JobState::Running,
            "COMPLETED" if code == 0 && signal == 0 => JobState::Completed,
            "CANCELLED" | "REVOKED" => JobState::Cancelled,
            "COMPLETED" | "FAILED" | "TIMEOUT" | "NODE_FAIL" | "OUT_OF_MEMORY" | "BOOT_FAIL"
            | "DEADLINE" | "PREEMPTED" | "SPECIAL_EXIT" => {
                let mut why = name.to_string();
                if !reason.is_empty() && reason != "None" {
                    why.push_str(&format!(" ({reason})"));
                }
                if signal != 0 {
                    why.push_str(&format!(", killed by signal {signal}"));
                }
                let exit_code = (signal == 0).then_some(code);
                JobState::Failed {
                    exit_code,
                    reason: why,
                }
            }
            _ => JobState::Unknown(format!("Slurm state `{state}`")),
        }
    }
}

/// `squeue`'s arguments for `ids`: every state, one `id|state|reason|wait status|` line a job.
pub(super) fn squeue_args(ids: &str) -> Vec<String> {
    vec![
        "--noheader".into(),
        "--states=all".into(),
        format!("--jobs={ids}"),
        "--Format=JobID:|,State:|,Reason:|,exit_code:|".into(),
    ]
}

/// Parses [`squeue_args`]' output. The exit code field is the raw wait status (`768` = exit
/// code 3, `9` = signal 9). Lines that are not plain jobs (array tasks) are skipped.
pub(super) fn parse_squeue(out: &str) -> BTreeMap<JobId, JobState> {
    let mut states = BTreeMap::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(id), Some(state), Some(reason), Some(status)) =
            (f.first(), f.get(1), f.get(2), f.get(3))
        else {
            continue;
        };
        let Ok(id) = id.parse::<u64>() else { continue };
        let status: i32 = status.parse().unwrap_or(0);
        let state = JobState::from_slurm(state, reason, (status >> 8) & 0xff, status & 0x7f);
        states.insert(JobId(id), state);
    }
    states
}

/// `sacct`'s arguments for `ids`: job allocations only, `id|state|code:signal` lines; with
/// `completion`, read from the job-completion log instead of accounting storage.
pub(super) fn sacct_args(ids: &str, completion: bool) -> Vec<String> {
    let mut args = vec![
        "--noheader".into(),
        "--parsable2".into(),
        "--allocations".into(),
        format!("--jobs={ids}"),
        "--format=JobID,State,ExitCode".into(),
    ];
    if completion {
        args.push("--completion".into());
    }
    args
}

/// Parses [`sacct_args`]' output. A requeued job has several lines; the last one wins.
pub(super) fn parse_sacct(out: &str) -> BTreeMap<JobId, JobState> {
    let mut states = BTreeMap::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(id), Some(state), Some(exit)) = (f.first(), f.get(1), f.get(2)) else {
            continue;
        };
        let Ok(id) = id.parse::<u64>() else { continue };
        let (code, signal) = exit.split_once(':').unwrap_or((exit, "0"));
        let (code, signal) = (code.parse().unwrap_or(0), signal.parse().unwrap_or(0));
        states.insert(JobId(id), JobState::from_slurm(state, "", code, signal));
    }
    states
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUEUE: &str = include_str!("../../tests/slurm/fixtures/squeue.txt");
    const SACCT: &str = include_str!("../../tests/slurm/fixtures/sacct-completion.txt");

    fn failed(code: Option<i32>, reason: &str) -> JobState {
        JobState::Failed {
            exit_code: code,
            reason: reason.into(),
        }
    }

    #[test]
    fn squeue_output_gives_every_kind_of_state() {
        // Jobs 1-8 of the fixture: echo ok; exit 3; afterok on 2; kill -9 $$; sleep past a
        // one-minute limit; sleep 600 (running); two CPUs on a full node; cancelled while queued.
        let s = parse_squeue(SQUEUE);
        assert_eq!(s[&JobId(1)], JobState::Completed);
        assert_eq!(s[&JobId(2)], failed(Some(3), "FAILED (NonZeroExitCode)"));
        assert_eq!(s[&JobId(3)], JobState::DependencyNeverSatisfied);
        assert_eq!(
            s[&JobId(4)],
            failed(None, "FAILED (JobLaunchFailure), killed by signal 9")
        );
        assert_eq!(
            s[&JobId(5)],
            failed(None, "TIMEOUT (TimeLimit), killed by signal 15")
        );
        assert_eq!(s[&JobId(6)], JobState::Running);
        assert_eq!(s[&JobId(7)], JobState::Pending);
        assert_eq!(s[&JobId(8)], JobState::Cancelled);
    }

    #[test]
    fn sacct_output_gives_final_states_with_exit_codes() {
        let s = parse_sacct(SACCT);
        assert_eq!(s[&JobId(1)], JobState::Completed);
        assert_eq!(s[&JobId(2)], failed(Some(3), "FAILED"));
        assert_eq!(s[&JobId(4)], failed(None, "FAILED, killed by signal 9"));
        assert_eq!(s[&JobId(5)], failed(Some(0), "TIMEOUT"));
        assert_eq!(s[&JobId(8)], JobState::Cancelled);
        assert!(
            !s.contains_key(&JobId(3)) && !s.contains_key(&JobId(6)),
            "not finished"
        );
        assert!(s.values().all(JobState::is_final));
    }

    #[test]
    fn sacct_from_slurmdbd_says_who_cancelled_and_keeps_the_last_requeue() {
        let out = "11|CANCELLED by 1000|0:15\n12|FAILED|1:0\n12|COMPLETED|0:0\n13_2|FAILED|1:0\n";
        let s = parse_sacct(out);
        assert_eq!(s[&JobId(11)], JobState::Cancelled);
        assert_eq!(s[&JobId(12)], JobState::Completed);
        assert_eq!(s.len(), 2, "array tasks are skipped");
    }

    #[test]
    fn odd_lines_are_skipped_and_odd_states_are_unknown_not_errors() {
        let s = parse_squeue("garbage\n\n14|WEIRD_STATE|None|0|\n");
        assert_eq!(s.len(), 1);
        assert!(matches!(&s[&JobId(14)], JobState::Unknown(m) if m.contains("WEIRD_STATE")));
        assert!(!JobState::Pending.is_final() && JobState::Cancelled.is_final());
    }
}
