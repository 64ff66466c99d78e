//! Issue 13: a training killed under one thread count (`-j`, `--threads`) continues from its
//! checkpoint under another — the checkpoint's fingerprint covers what shapes the results, not
//! the loader threads the executor hands out.

use crate::pipeline::{kill_after_a_target_checkpoint, yaml, Project};
use crate::util::text;
use std::process::{Command, Stdio};

fn l2tww(p: &Project, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_l2tww"));
    c.current_dir(p.dir.path())
        .env_remove("L2TWW_CACHE")
        .args(args);
    c
}

#[test]
fn issue13_a_training_killed_under_one_thread_count_resumes_under_another() {
    let p = Project::new(&yaml(8, "[0]", 12).replace("method: [scratch, fm]", "method: [fm]"));
    let mut child = l2tww(
        &p,
        &["--threads", "2", "run", "pipelines/p.yaml", "-j", "1"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    kill_after_a_target_checkpoint(&p, &mut child);
    let target_log = p.cache().join("logs/p/target_method=fm,seed=0_.log");
    let first = std::fs::read_to_string(&target_log).unwrap();

    let out = l2tww(
        &p,
        &["--threads", "1", "run", "pipelines/p.yaml", "-j", "2"],
    )
    .output()
    .unwrap();
    let (o, e) = text(&out);
    assert!(out.status.success(), "the resumed run failed:\n{o}\n{e}");
    assert!(
        first.lines().next().unwrap().contains("2 thread(s)"),
        "{first}"
    );
    let log = std::fs::read_to_string(&target_log).unwrap();
    assert!(log.lines().next().unwrap().contains("1 thread(s)"), "{log}");
    assert!(
        !log.contains("epoch   1/8"),
        "the run started over instead of resuming:\n{log}"
    );
    // It says so, and from which epoch.
    let said = log
        .lines()
        .find(|l| l.starts_with("resumed from the checkpoint after epoch "))
        .unwrap_or_else(|| panic!("no resume line:\n{log}"));
    let done: usize = said["resumed from the checkpoint after epoch ".len()..]
        .split('/')
        .next()
        .and_then(|d| d.parse().ok())
        .unwrap();
    assert!((1..8).contains(&done), "{said}");
    assert!(log.contains(&format!("epoch {:>3}/8", done + 1)), "{log}");
}
