//! The Slurm client against a real cluster: `make test-slurm` starts one with
//! `tests/slurm/cluster.sh` and sets `L2TWW_SLURM_TEST` to its folder. Without it these tests
//! print "skipped: no test cluster" and pass.
//!
//! What Slurm 22.05 does with a job whose `afterok` dependency failed (checked below): it stays
//! PENDING with reason `DependencyNeverSatisfied`, never runs, and must be cancelled.
use l2tww::slurm::{log_tail, JobId, JobSpec, JobState, SlurmClient};
use l2tww::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A client for the test cluster, or `None` (and a note) when none is up.
fn cluster() -> Option<SlurmClient> {
    let Some(dir) = std::env::var_os("L2TWW_SLURM_TEST") else {
        eprintln!("skipped: no test cluster (set by make test-slurm)");
        return None;
    };
    let client = SlurmClient::from_env().expect("sbatch is on PATH when a test cluster is up");
    Some(client.with_conf(PathBuf::from(dir).join("slurm.conf")))
}

fn job(dir: &Path, name: &str, body: &str) -> JobSpec {
    JobSpec::new(
        name,
        body,
        dir,
        dir.join("logs").join(format!("{name}.log")),
    )
}

/// Polls until `id`'s state satisfies `done`, for at most a minute; returns that state.
fn wait_for(client: &SlurmClient, id: JobId, done: impl Fn(&JobState) -> bool) -> JobState {
    let start = Instant::now();
    loop {
        let state = client.states(&[id]).unwrap().remove(&id).unwrap();
        if done(&state) {
            return state;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "job {id} stuck in {state:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn slurm_a_chain_runs_in_order_and_the_second_job_reads_the_first_ones_output() {
    let Some(client) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let a = client
        .submit(&job(
            dir.path(),
            "chain-a",
            "sleep 1\necho 'from A'\necho 41 > a.out",
        ))
        .unwrap();
    let mut b_spec = job(
        dir.path(),
        "chain-b",
        "echo $(( $(cat a.out) + 1 )) > b.out",
    );
    b_spec.dependencies = vec![a];
    b_spec.setup = Some("export L2TWW_FROM_SETUP=yes".into());
    b_spec
        .script_body
        .push_str("\necho \"setup: $L2TWW_FROM_SETUP\"");
    let b = client.submit(&b_spec).unwrap();

    assert_eq!(
        wait_for(&client, b, JobState::is_final),
        JobState::Completed
    );
    let states = client.states(&[a, b]).unwrap();
    assert_eq!(states[&a], JobState::Completed);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("b.out")).unwrap(),
        "42\n"
    );
    let a_log = log_tail(&dir.path().join("logs/chain-a.log"), 1).unwrap();
    assert_eq!(a_log, "from A");
    let b_log = log_tail(&dir.path().join("logs/chain-b.log"), 5).unwrap();
    assert!(b_log.contains("setup: yes"), "{b_log}");
    assert!(
        dir.path().join("logs/chain-b.sbatch").is_file(),
        "the script stays for inspection"
    );
}

#[test]
fn slurm_a_failing_job_reports_its_exit_code_and_its_dependent_never_runs() {
    let Some(client) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let f = client
        .submit(&job(
            dir.path(),
            "fail",
            "echo 'about to fail'\nfalse_status=3\nexit $false_status",
        ))
        .unwrap();
    let mut d_spec = job(dir.path(), "after-fail", "touch ran");
    d_spec.dependencies = vec![f];
    let d = client.submit(&d_spec).unwrap();

    let failed = wait_for(&client, f, JobState::is_final);
    let JobState::Failed { exit_code, reason } = failed else {
        panic!("expected Failed, got {failed:?}")
    };
    assert_eq!(exit_code, Some(3));
    assert!(reason.contains("FAILED"), "{reason}");
    let tail = log_tail(&dir.path().join("logs/fail.log"), 3).unwrap();
    assert!(tail.ends_with("about to fail"), "{tail}");

    let blocked = wait_for(&client, d, |s| *s != JobState::Pending);
    assert_eq!(blocked, JobState::DependencyNeverSatisfied);
    client.cancel(&[d]).unwrap();
    assert_eq!(
        wait_for(&client, d, JobState::is_final),
        JobState::Cancelled
    );
    assert!(!dir.path().join("ran").exists() && !dir.path().join("logs/after-fail.log").exists());
}

#[test]
fn slurm_a_running_job_can_be_cancelled() {
    let Some(client) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let id = client
        .submit(&job(dir.path(), "sleeper", "echo started\nsleep 600"))
        .unwrap();
    assert_eq!(
        wait_for(&client, id, |s| *s != JobState::Pending),
        JobState::Running
    );
    // Running in Slurm's eyes can precede the script's first line; cancel once it has printed.
    let log = dir.path().join("logs/sleeper.log");
    let start = Instant::now();
    while !std::fs::read_to_string(&log).is_ok_and(|t| t.contains("started")) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the job never printed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    client.cancel(&[id]).unwrap();
    assert_eq!(
        wait_for(&client, id, JobState::is_final),
        JobState::Cancelled
    );
    let tail = log_tail(&dir.path().join("logs/sleeper.log"), 5).unwrap();
    assert!(
        tail.contains("started") && tail.contains("CANCELLED"),
        "{tail}"
    );
}

#[test]
fn slurm_sbatch_refusals_name_the_command_and_carry_slurms_message() {
    let Some(client) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut spec = job(dir.path(), "nowhere", "true");
    spec.partition = Some("no-such-partition".into());
    let err = client.submit(&spec).unwrap_err();
    let Error::Command {
        command,
        status,
        stderr,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(command.starts_with("sbatch --parsable "), "{command}");
    assert_eq!(status, "exit code 1");
    assert!(stderr.contains("invalid partition"), "{stderr}");
}

#[test]
fn slurm_a_job_id_the_cluster_never_had_is_unknown_with_the_reason() {
    let Some(client) = cluster() else { return };
    let id = JobId(987_654);
    let state = client.states(&[id]).unwrap().remove(&id).unwrap();
    let JobState::Unknown(why) = state else {
        panic!("{state:?}")
    };
    assert!(why.contains("not known to squeue"), "{why}");
}

/// The tiny pipeline of the pipeline tests through `--executor slurm`: the same table as the
/// local executor; a job killed mid-run fails, its dependants are cancelled, and a re-run
/// submits only what is still stale and completes.
#[test]
fn slurm_a_pipeline_through_slurm_gives_the_local_table_and_recovers_from_a_killed_job() {
    use crate::pipeline::{yaml, Project};
    let Some(dir) = std::env::var_os("L2TWW_SLURM_TEST") else {
        eprintln!("skipped: no test cluster (set by make test-slurm)");
        return;
    };
    let conf = PathBuf::from(dir).join("slurm.conf");
    // 16 per class (all the generated data has) for 40 epochs: a target job of several seconds,
    // so that it is still running when the test cancels it (10 per class for 8 epochs could
    // finish between the poll and the cancel).
    let text = yaml(40, "[0]", 16).replace("method: [scratch, fm]", "method: [fm]");
    let local = Project::new(&text);
    local.run();
    let local_table = std::fs::read_to_string(local.dir.path().join("results/p/table.md")).unwrap();

    let p = Project::new(&text);
    let slurm = |args: &[&str]| {
        let mut c = p.cmd(args);
        c.env("SLURM_CONF", &conf);
        c.output().unwrap()
    };
    // Submit without waiting; kill the target's job once it runs.
    let out = slurm(&["run", "pipelines/p.yaml", "--executor", "slurm"]);
    let (o, e) = crate::util::text(&out);
    assert!(out.status.success(), "{o}{e}");
    let target_job: u64 = o
        .lines()
        .find(|l| l.starts_with("submitted  target["))
        .and_then(|l| l.split("job ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|j| j.parse().ok())
        .expect("the target was submitted");
    let client = SlurmClient::from_env().unwrap().with_conf(&conf);
    let id = JobId(target_job);
    // The chain before it (data, subsets, source) goes through the scheduler one level at a
    // time, beside the other Slurm tests' jobs: allow minutes, not seconds.
    let start = Instant::now();
    let state = loop {
        let st = client.states(&[id]).unwrap().remove(&id).unwrap();
        if st == JobState::Running || st.is_final() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "job {id} stuck in {st:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        state,
        JobState::Running,
        "the target job ran too fast to be killed"
    );
    client.cancel(&[id]).unwrap();
    assert_eq!(
        wait_for(&client, id, |s| s.is_final()),
        JobState::Cancelled,
        "the target job finished before the cancel reached it"
    );
    let status = crate::util::text(&slurm(&["status", "pipelines/p.yaml"])).0;
    assert!(
        status.contains("stale  target[") && status.contains(&format!("slurm job {target_job}")),
        "{status}"
    );

    // Re-run and wait: only the target and the report are submitted again.
    let out = slurm(&["run", "pipelines/p.yaml", "--executor", "slurm", "--wait"]);
    let (o, e) = crate::util::text(&out);
    assert!(out.status.success(), "{o}{e}");
    let again: Vec<&str> = o.lines().filter(|l| l.starts_with("submitted")).collect();
    assert_eq!(again.len(), 2, "{o}");
    let table = std::fs::read_to_string(p.dir.path().join("results/p/table.md")).unwrap();
    assert_eq!(table, local_table);
    let status = crate::util::text(&slurm(&["status", "pipelines/p.yaml"])).0;
    assert!(status.contains("0 stale"), "{status}");
}

/// Issue 13: the Slurm executor shares the local one's selection: an unknown `--force` name is
/// an error (with the nearest name) before anything is submitted, cluster or not.
#[test]
fn slurm_an_unknown_force_name_is_an_error_before_anything_is_submitted() {
    use crate::pipeline::{yaml, Project};
    let p = Project::new(&yaml(1, "[0]", 6));
    let mut c = p.cmd(&[
        "run",
        "pipelines/p.yaml",
        "--executor",
        "slurm",
        "--force",
        "sorce",
    ]);
    if let Some(dir) = std::env::var_os("L2TWW_SLURM_TEST") {
        c.env("SLURM_CONF", PathBuf::from(dir).join("slurm.conf"));
    }
    let out = c.output().unwrap();
    let (o, e) = crate::util::text(&out);
    assert_eq!(out.status.code(), Some(2), "{o}{e}");
    assert!(
        e.contains("--force: no stage or instance `sorce`") && e.contains("did you mean `source`?"),
        "{e}"
    );
    assert!(
        !p.cache().join("slurm/p.json").exists(),
        "nothing was submitted"
    );
}

/// Issue 13: `--only` under the Slurm executor submits the named stage and what it reads, and
/// nothing else.
#[test]
fn slurm_only_submits_the_named_stage_and_what_it_reads() {
    use crate::pipeline::{yaml, Project};
    let Some(dir) = std::env::var_os("L2TWW_SLURM_TEST") else {
        eprintln!("skipped: no test cluster (set by make test-slurm)");
        return;
    };
    let conf = PathBuf::from(dir).join("slurm.conf");
    let p = Project::new(&yaml(1, "[0]", 6));
    let run = |args: &[&str]| {
        let mut c = p.cmd(args);
        c.env("SLURM_CONF", &conf);
        c.output().unwrap()
    };
    let out = run(&[
        "run",
        "pipelines/p.yaml",
        "--executor",
        "slurm",
        "--only",
        "src-data",
        "--wait",
    ]);
    let (o, e) = crate::util::text(&out);
    assert!(out.status.success(), "{o}{e}");
    let mut submitted: Vec<&str> = o
        .lines()
        .filter_map(|l| l.strip_prefix("submitted  "))
        .map(|l| l.split("  ").next().unwrap())
        .collect();
    submitted.sort();
    assert_eq!(submitted, ["data", "src-data"], "{o}");
    let status = crate::util::text(&run(&["status", "pipelines/p.yaml"])).0;
    assert!(
        status.contains("fresh  src-data") && status.contains("stale  source"),
        "{status}"
    );
}
