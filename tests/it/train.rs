//! `l2tww train CONFIG.yaml` end to end on real (tiny) Parquet splits: a run writes its summary,
//! metrics and weights; a run killed after a checkpoint and started again ends with exactly the
//! numbers and weights of an uninterrupted run; bad configurations get clear errors.

use crate::util::{quadrant_samples, text, write_quadrants};
use l2tww::models::weights::WeightFile;
use l2tww::models::{weights, Arch, Model};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tch::{Device, Kind};

/// `n` quadrant images (see `util::quadrant_samples`) as a Parquet split.
fn quadrant_split(path: &Path, n: usize, seed: u64) {
    write_quadrants(path, &quadrant_samples(n, seed, 0));
}

/// Writes the splits, a source checkpoint (a copy of `source` when given, so that two runs share
/// it) and the run's configuration into `dir`.
fn setup(dir: &Path, method: &str, epochs: usize, source: Option<&Path>) -> std::path::PathBuf {
    quadrant_split(&dir.join("train.parquet"), 24, 1);
    quadrant_split(&dir.join("val.parquet"), 8, 2);
    quadrant_split(&dir.join("test.parquet"), 8, 3);
    match source {
        Some(s) => drop(std::fs::copy(s, dir.join("source.safetensors")).unwrap()),
        None => {
            let model = Model::new(Arch::CifarResNet(20), 4, Device::Cpu, Kind::Float).unwrap();
            weights::save(
                &model.vs,
                &Default::default(),
                &dir.join("source.safetensors"),
            )
            .unwrap();
        }
    }
    let cfg = format!(
        "seed: 3\ndata:\n  train: train.parquet\n  val: val.parquet\n  test: test.parquet\n  batch: 8\n  per-class: 4\n\
         target:\n  arch: vgg9-bn\nsources:\n  - checkpoint: source.safetensors\nmethod: {method}\n\
         optim:\n  epochs: {epochs}\n  lr: 0.05\n  schedule: constant\nout: run\n"
    );
    let path = dir.join("train.yaml");
    std::fs::write(&path, cfg).unwrap();
    path
}

fn train(config: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_l2tww"))
        .args(["--device", "cpu", "train", config.to_str().unwrap()])
        .output()
        .unwrap()
}

fn epochs_of(run: &Path) -> Vec<serde_json::Value> {
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    summary["epochs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.as_object_mut().unwrap().remove("seconds");
            e
        })
        .collect()
}

#[test]
fn a_run_killed_after_a_checkpoint_resumes_to_the_same_numbers() {
    let whole = tempfile::tempdir().unwrap();
    let cfg = setup(whole.path(), "{l2t-ww: {T: 1, pairs: one-to-one}}", 3, None);
    let out = train(&cfg);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("l2t-ww: test accuracy"), "{stdout}");
    for f in [
        "summary.json",
        "metrics.parquet",
        "target.safetensors",
        "checkpoint.safetensors",
    ] {
        assert!(whole.path().join("run").join(f).exists(), "{f} missing");
    }

    let cut = tempfile::tempdir().unwrap();
    let cfg = setup(
        cut.path(),
        "{l2t-ww: {T: 1, pairs: one-to-one}}",
        3,
        Some(&whole.path().join("source.safetensors")),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_l2tww"))
        .args(["--device", "cpu", "train", cfg.to_str().unwrap()])
        .spawn()
        .unwrap();
    let ckpt = cut.path().join("run/checkpoint.safetensors");
    let start = Instant::now();
    while !ckpt.exists() && start.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done: usize = WeightFile::read(&ckpt)
        .unwrap()
        .meta("epochs_done")
        .unwrap()
        .parse()
        .unwrap();
    assert!(done < 3, "the run finished before it could be interrupted");
    let out = train(&cfg);
    assert!(out.status.success(), "{:?}", text(&out));

    assert_eq!(
        epochs_of(&whole.path().join("run")),
        epochs_of(&cut.path().join("run"))
    );
    let a = WeightFile::read(&whole.path().join("run/target.safetensors")).unwrap();
    let b = WeightFile::read(&cut.path().join("run/target.safetensors")).unwrap();
    for ((na, ta), (nb, tb)) in a.tensors.iter().zip(&b.tensors) {
        assert_eq!(na, nb);
        assert!(ta.equal(tb), "{na} differs after resuming");
    }
}

#[test]
fn a_config_with_an_unknown_key_or_a_missing_tap_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = setup(dir.path(), "scratch", 1, None);
    let text_cfg = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("  batch: 8", "  batch: 8\n  bacth: 9");
    std::fs::write(&cfg, text_cfg).unwrap();
    let out = train(&cfg);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("train.yaml:") && stderr.contains("bacth"),
        "{stderr}"
    );

    let cfg = setup(dir.path(), "{fm: {pairs: !explicit 8-9}}", 1, None);
    let out = train(&cfg);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("8-9") && stderr.contains("source taps") && stderr.contains("features.27"),
        "{stderr}"
    );
}
