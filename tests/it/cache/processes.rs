//! The cache under concurrency and crashes: threads and processes committing the same key, a
//! staging process killed by SIGKILL, and the cache lock across processes. Child processes are
//! this test binary re-run in a mode picked by `L2TWW_CACHE_CHILD` (see [`child_process`]).

use super::{commit_sample, hit, key, tmp_items};
use l2tww::cache::{Key, Lookup, Store, Verify};
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

#[test]
fn two_threads_committing_the_same_key_leave_exactly_one_whole_entry() {
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let k = key(&format!("race {round}"));
        let barrier = Arc::new(Barrier::new(2));
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let (store, barrier) = (store.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let staging = store.stage(&k).unwrap();
                    std::fs::write(staging.out_dir().join("who"), format!("{t}")).unwrap();
                    std::fs::write(staging.out_dir().join(format!("only-{t}")), b"").unwrap();
                    barrier.wait();
                    staging.commit(json!({ "thread": t })).unwrap()
                })
            })
            .collect();
        let entries: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(entries[0].manifest, entries[1].manifest);
        assert_one_whole_entry(&store, &k);
    }
}

#[test]
fn processes_committing_the_same_key_at_once_leave_exactly_one_whole_entry() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let go = dir.path().join("go");
    let children: Vec<Child> = (0..4)
        .map(|i| {
            child(
                "commit",
                dir.path(),
                &go,
                &[("L2TWW_CACHE_ID", &i.to_string())],
            )
            .spawn()
            .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(&go, b"").unwrap();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    assert_one_whole_entry(&store, &key("shared"));
}

fn assert_one_whole_entry(store: &Store, k: &Key) {
    let entry = hit(store.lookup(k, Verify::Full).unwrap());
    let who = std::fs::read_to_string(entry.out_dir().join("who")).unwrap();
    let paths: Vec<&str> = entry
        .manifest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [format!("only-{who}").as_str(), "who"],
        "one writer's files only"
    );
    assert_eq!(store.entries().unwrap().len(), 1);
    assert_eq!(tmp_items(store), 0, "the loser's staging folder is gone");
}

#[test]
fn a_staging_process_killed_midway_leaves_no_entry_and_sweep_removes_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let ready = dir.path().join("ready");
    let mut writer = child("stage-slowly", dir.path(), &ready, &[])
        .spawn()
        .unwrap();
    wait_for(&ready);
    assert_eq!(store.sweep_tmp().unwrap(), 0, "the writer is alive");
    writer.kill().unwrap(); // SIGKILL
    writer.wait().unwrap();
    let k = key("slow");
    assert!(matches!(
        store.lookup(&k, Verify::Full).unwrap(),
        Lookup::Miss
    ));
    assert_eq!(
        tmp_items(&store),
        1,
        "SIGKILL leaves the staging folder behind"
    );
    assert_eq!(store.sweep_tmp().unwrap(), 1);
    assert_eq!(tmp_items(&store), 0);
    commit_sample(&store, &k);
    hit(store.lookup(&k, Verify::Full).unwrap());
}

#[test]
fn try_lock_fails_while_another_process_holds_the_lock_and_succeeds_after_it_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let ready = dir.path().join("ready");
    let mut holder = child("hold-lock", dir.path(), &ready, &[]).spawn().unwrap();
    wait_for(&ready);
    assert!(store.try_lock("test").unwrap().is_none());
    assert_eq!(store.lock_holder().unwrap().pid, holder.id());
    holder.kill().unwrap();
    holder.wait().unwrap();
    let lock = store.try_lock("test").unwrap().expect("free after SIGKILL");
    assert_eq!(store.lock_holder().unwrap().pid, std::process::id());
    drop(lock);
}

#[test]
fn a_waiting_process_names_the_holder_and_gets_the_lock_when_it_dies() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready");
    let mut holder = child("hold-lock", dir.path(), &ready, &[]).spawn().unwrap();
    wait_for(&ready);
    let got = dir.path().join("got");
    let mut waiter = child("wait-lock", dir.path(), &got, &[])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(waiter.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("waiting for the cache lock") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the waiter said nothing"
        );
    }
    assert!(
        line.contains(&format!("held by pid {} on ", holder.id())),
        "{line}"
    );
    assert!(line.contains("`holder`"), "{line}");
    assert!(!got.exists(), "the waiter blocks while the holder lives");
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(waiter.wait().unwrap().success());
    assert!(got.exists());
}

/// This test binary re-run as a child in `mode`, with the cache at `root` and a marker file.
fn child(mode: &str, root: &Path, mark: &Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "cache::processes::child_process",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("L2TWW_CACHE_CHILD", mode)
    .env("L2TWW_CACHE_ROOT", root)
    .env("L2TWW_CACHE_MARK", mark)
    .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Not a test by itself: the body of the child processes above (does nothing unless
/// `L2TWW_CACHE_CHILD` is set).
#[test]
fn child_process() {
    let Ok(mode) = std::env::var("L2TWW_CACHE_CHILD") else {
        return;
    };
    let root = PathBuf::from(std::env::var("L2TWW_CACHE_ROOT").unwrap());
    let mark = PathBuf::from(std::env::var("L2TWW_CACHE_MARK").unwrap());
    let store = Store::open(&root).unwrap();
    match mode.as_str() {
        "commit" => {
            let id = std::env::var("L2TWW_CACHE_ID").unwrap();
            let staging = store.stage(&key("shared")).unwrap();
            std::fs::write(staging.out_dir().join("who"), &id).unwrap();
            std::fs::write(staging.out_dir().join(format!("only-{id}")), b"").unwrap();
            wait_for(&mark);
            staging.commit(json!({ "process": id })).unwrap();
        }
        "stage-slowly" => {
            let staging = store.stage(&key("slow")).unwrap();
            let mut f = std::fs::File::create(staging.out_dir().join("big.bin")).unwrap();
            for i in 0..1500 {
                f.write_all(&[0u8; 4096]).unwrap();
                if i == 2 {
                    std::fs::write(&mark, b"").unwrap();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        "hold-lock" => {
            let _lock = store.try_lock("holder").unwrap().expect("free");
            std::fs::write(&mark, b"").unwrap();
            std::thread::sleep(Duration::from_secs(60));
        }
        "wait-lock" => {
            let _lock = store.lock("waiter").unwrap();
            std::fs::write(&mark, b"").unwrap();
        }
        other => panic!("unknown child mode {other}"),
    }
}
