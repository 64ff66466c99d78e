//! A command line that fails well: a closed standard output ends the program quietly; a
//! training continues from its checkpoint whichever folder it is started from, and a finished
//! one says so; errors print each cause once, name the key and line of a missing file and the
//! nearest valid key; the commands that only look create no cache; exit codes are 2 for bad
//! input, 1 for a failed stage, never 101.

use crate::issue13::Proj;
use crate::util::{quadrant_samples, text, write_quadrants};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn l2tww_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_l2tww"))
        .current_dir(dir)
        .env_remove("L2TWW_CACHE")
        .args(args)
        .output()
        .unwrap()
}

/// Runs `args` in `dir` with its standard output a pipe whose reading end is closed before the
/// program writes; returns how it ended and its standard error.
fn into_closed_pipe(dir: &Path, args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_l2tww"))
        .current_dir(dir)
        .env_remove("L2TWW_CACHE")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ends_quietly(status: std::process::ExitStatus, stderr: &str) {
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
    assert!(
        status.success() || status.signal() == Some(libc::SIGPIPE),
        "{status:?}: {stderr}"
    );
}

#[test]
fn a_closed_standard_output_ends_inspect_and_status_quietly() {
    let p = Proj::new("");
    p.ok(&["run", "pipelines/p.yaml"]);
    let (status, e) = into_closed_pipe(&p.dir(), &["status", "pipelines/p.yaml"]);
    ends_quietly(status, &e);
    let model = l2tww::models::Model::new(
        l2tww::models::Arch::CifarResNet(8),
        4,
        tch::Device::Cpu,
        tch::Kind::Float,
    )
    .unwrap();
    let file = p.dir().join("m.safetensors");
    l2tww::models::weights::save(&model.vs, &Default::default(), &file).unwrap();
    let (status, e) = into_closed_pipe(&p.dir(), &["inspect", "m.safetensors"]);
    ends_quietly(status, &e);
}

/// `exp/` with tiny quadrant splits and `run.yaml`, a one-epoch scratch training whose paths
/// are relative to it.
fn experiment(root: &Path) -> std::path::PathBuf {
    let exp = root.join("exp");
    std::fs::create_dir(&exp).unwrap();
    for (split, n, seed) in [("train", 16, 1), ("val", 8, 2), ("test", 8, 3)] {
        write_quadrants(
            &exp.join(format!("{split}.parquet")),
            &quadrant_samples(n, seed, 0),
        );
    }
    let cfg = "data: {train: train.parquet, val: val.parquet, test: test.parquet, batch: 8, \
               augment: none}\ntarget: {arch: resnet8}\noptim: {epochs: 1, lr: 0.05}\nout: run\n";
    std::fs::write(exp.join("run.yaml"), cfg).unwrap();
    exp
}

#[test]
fn a_training_started_again_from_another_folder_finds_its_checkpoint_complete() {
    let root = tempfile::tempdir().unwrap();
    let exp = experiment(root.path());
    let first = l2tww_in(&exp, &["--device", "cpu", "train", "run.yaml"]);
    let (o, e) = text(&first);
    assert!(first.status.success(), "{o}{e}");
    let again = l2tww_in(root.path(), &["--device", "cpu", "train", "exp/run.yaml"]);
    let (o, e) = text(&again);
    assert!(again.status.success(), "{o}{e}");
    assert!(
        o.contains("the checkpoint holds all 1 epoch(s): the training is complete"),
        "{o}"
    );
    assert!(!o.contains("continuing with epoch 2"), "{o}");
    assert!(o.contains("scratch: test accuracy"), "{o}");
}

#[test]
fn a_missing_file_prints_its_cause_once() {
    let root = tempfile::tempdir().unwrap();
    let out = l2tww_in(root.path(), &["train", "nowhere.yaml"]);
    let (_, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert_eq!(e.matches("No such file or directory").count(), 1, "{e}");
    assert!(e.contains("nowhere.yaml"), "{e}");
}

#[test]
fn a_missing_file_named_in_a_training_is_reported_at_its_key() {
    let root = tempfile::tempdir().unwrap();
    let exp = experiment(root.path());
    let cfg = std::fs::read_to_string(exp.join("run.yaml")).unwrap();
    std::fs::write(
        exp.join("run.yaml"),
        cfg.replace("test.parquet", "tset.parquet"),
    )
    .unwrap();
    let out = l2tww_in(root.path(), &["train", "exp/run.yaml"]);
    let (_, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("run.yaml:1:")
            && e.contains("`data.test`")
            && e.contains("tset.parquet does not exist"),
        "{e}"
    );
    assert!(!exp.join("run").exists(), "nothing was written");
}

#[test]
fn an_unknown_key_in_a_training_gets_the_nearest_valid_one() {
    let root = tempfile::tempdir().unwrap();
    let exp = experiment(root.path());
    let cfg = std::fs::read_to_string(exp.join("run.yaml")).unwrap();
    std::fs::write(exp.join("run.yaml"), format!("{cfg}sed: 3\n")).unwrap();
    let out = l2tww_in(root.path(), &["train", "exp/run.yaml"]);
    let (_, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("run.yaml:5:1:") && e.contains("did you mean `seed`?"),
        "{e}"
    );
}

#[test]
fn a_number_out_of_range_in_a_training_is_reported_at_its_key() {
    let root = tempfile::tempdir().unwrap();
    let exp = experiment(root.path());
    let cfg = std::fs::read_to_string(exp.join("run.yaml")).unwrap();
    std::fs::write(exp.join("run.yaml"), cfg.replace("lr: 0.05", "lr: -0.05")).unwrap();
    let out = l2tww_in(root.path(), &["train", "exp/run.yaml"]);
    let (_, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("run.yaml:3:") && e.contains("`optim.lr`") && e.contains("> 0"),
        "{e}"
    );
}

#[test]
fn status_runs_and_show_without_a_cache_say_so_and_create_none() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("p.yaml"),
        "stages:\n  c: {kind: dataset, dataset: cifar10}\n",
    )
    .unwrap();
    for cmd in [
        &["status", "p.yaml"][..],
        &["runs", "p.yaml"],
        &["show", "p.yaml", "c"],
    ] {
        let out = l2tww_in(root.path(), cmd);
        let (o, e) = text(&out);
        assert!(out.status.success(), "{cmd:?}: {o}{e}");
        assert!(
            e.contains(&format!(
                "there is no cache at {}",
                root.path().join("cache").display()
            )),
            "{cmd:?}: {e}"
        );
        assert!(!root.path().join("cache").exists(), "{cmd:?} made a cache");
    }
    let (o, _) = text(&l2tww_in(root.path(), &["status", "p.yaml"]));
    assert!(
        o.contains("stale  c") && o.contains("0 fresh, 1 stale"),
        "{o}"
    );
    let out = l2tww_in(root.path(), &["status", "p.yaml", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));
}

#[test]
fn a_failed_stage_exits_with_1_and_bad_input_with_2() {
    let p = Proj::new("  bad: {kind: dataset, dataset: fashion-mnist, from: ../empty}\n");
    std::fs::create_dir(p.dir().join("empty")).unwrap();
    let out = p.l2tww(&["run", "pipelines/p.yaml"]);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{o}{e}");
    assert!(e.contains("failed: bad") && !e.contains("panicked"), "{e}");
    let e = p.fails(&["run", "pipelines/nowhere.yaml"]);
    assert!(!e.contains("panicked"), "{e}");
    let e = p.fails(&["runs", "pipelines/p.yaml", "--sort-by", "nothing"]);
    assert!(e.contains("no column `nothing`"), "{e}");
}
