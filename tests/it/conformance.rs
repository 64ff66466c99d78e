//! `l2tww conformance` on the official reference tensors, on cases derived from them with other
//! sizes, and on broken input.

use crate::util::{l2tww, reference_dir, text};
use l2tww::models::weights::{save_tensors, WeightFile};
use std::path::Path;
use tch::Tensor;

fn copy_with(src: &Path, dst: &Path, edit: impl Fn(&str, &Tensor) -> Option<Tensor>) {
    let file = WeightFile::read(src).unwrap();
    let tensors: Vec<(String, Tensor)> = file
        .tensors
        .iter()
        .map(|(n, t)| (n.clone(), edit(n, t).unwrap_or_else(|| t.shallow_clone())))
        .collect();
    save_tensors(&tensors, &file.metadata, dst).unwrap();
}

#[test]
fn every_official_case_passes_within_1e_9() {
    let Some(dir) = reference_dir() else { return };
    let out = l2tww(&["conformance", dir.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    for case in [
        "resnet32_features",
        "vgg9bn_features[eval]",
        "vgg9bn_features[train]",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(case))
            .unwrap_or_else(|| panic!("no line for {case}:\n{stdout}"));
        assert!(line.ends_with("ok"), "{line}");
    }
}

#[test]
fn a_smaller_batch_made_from_the_reference_passes_too() {
    // Eval-mode outputs are per sample, so the first two samples of the ResNet case form a
    // valid case with another batch size: sizes must come from the files.
    let Some(dir) = reference_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.join("resnet32_tinyimagenet.safetensors"),
        tmp.path().join("resnet32_tinyimagenet.safetensors"),
    )
    .unwrap();
    copy_with(
        &dir.join("resnet32_features.safetensors"),
        &tmp.path().join("resnet32_features.safetensors"),
        |_, t| Some(t.narrow(0, 0, 2)),
    );
    let out = l2tww(&["conformance", tmp.path().to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
}

#[test]
fn a_perturbed_reference_fails_with_exit_code_1() {
    let Some(dir) = reference_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    copy_with(
        &dir.join("vgg9bn_features.safetensors"),
        &tmp.path().join("vgg9bn_features.safetensors"),
        |n, t| (n == "train.feature.3").then(|| t * (1.0 + 1e-6)),
    );
    let out = l2tww(&["conformance", tmp.path().to_str().unwrap()]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("vgg9bn_features[eval]") && stdout.contains("FAIL"),
        "{stdout}"
    );
    assert!(stdout.contains("train.feature.3"), "{stdout}");
    assert!(stdout.contains("1 passed, 1 failed"), "{stdout}");
}

#[test]
fn unreadable_input_exits_2_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = l2tww(&["conformance", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("no known reference case"));
    std::fs::write(
        tmp.path().join("vgg9bn_features.safetensors"),
        b"\x10\x00\x00\x00\x00\x00\x00\x00{not json",
    )
    .unwrap();
    let out = l2tww(&["conformance", tmp.path().to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("vgg9bn_features.safetensors"), "{stderr}");
    let missing_ckpt = tempfile::tempdir().unwrap();
    if let Some(dir) = reference_dir() {
        std::fs::copy(
            dir.join("resnet32_features.safetensors"),
            missing_ckpt.path().join("resnet32_features.safetensors"),
        )
        .unwrap();
        let out = l2tww(&["conformance", missing_ckpt.path().to_str().unwrap()]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("resnet32_tinyimagenet.safetensors"),
            "{stderr}"
        );
    }
}

#[test]
fn the_iteration_count_comes_from_the_file() {
    // Only the first iteration's tensors: one iteration is run and checked, and it passes.
    let Some(dir) = reference_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for f in [
        "resnet32_tinyimagenet.safetensors",
        "vgg9bn_features.safetensors",
    ] {
        std::fs::copy(dir.join(f), tmp.path().join(f)).unwrap();
    }
    let src = WeightFile::read(&dir.join("l2tww_two_iterations.safetensors")).unwrap();
    let kept: Vec<(String, Tensor)> = src
        .tensors
        .iter()
        .filter(|(n, _)| !n.starts_with("iter1."))
        .map(|(n, t)| (n.clone(), t.shallow_clone()))
        .collect();
    save_tensors(
        &kept,
        &src.metadata,
        &tmp.path().join("l2tww_two_iterations.safetensors"),
    )
    .unwrap();
    let out = l2tww(&["conformance", tmp.path().to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("l2tww_two_iterations[iter0]") && !stdout.contains("[iter1]"),
        "{stdout}"
    );
}

#[test]
fn a_changed_hyper_parameter_in_the_metadata_is_noticed() {
    // The metadata drive the run: with another learning rate the reference no longer matches.
    let Some(dir) = reference_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let src = WeightFile::read(&dir.join("metasgd_toy.safetensors")).unwrap();
    let mut meta = src.metadata.clone();
    meta.insert("lr".into(), "0.11".into());
    save_tensors(
        &src.tensors,
        &meta,
        &tmp.path().join("metasgd_toy.safetensors"),
    )
    .unwrap();
    let out = l2tww(&["conformance", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));
}

#[test]
fn initial_weights_that_do_not_fit_l2t_ww_are_listed_by_its_names() {
    // The reference's initial 1×1 convs and meta-networks are loaded into the variables of
    // L2T-ww as training builds it, by name: one missing is an error naming it, not a silent
    // default.
    let Some(dir) = reference_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for f in [
        "resnet32_tinyimagenet.safetensors",
        "vgg9bn_features.safetensors",
    ] {
        std::os::unix::fs::symlink(dir.join(f), tmp.path().join(f)).unwrap();
    }
    let src = WeightFile::read(&dir.join("l2tww_two_iterations.safetensors")).unwrap();
    let kept: Vec<(String, Tensor)> = src
        .tensors
        .iter()
        .filter(|(n, _)| n != "init.lwnet.1.bias")
        .map(|(n, t)| (n.clone(), t.shallow_clone()))
        .collect();
    save_tensors(
        &kept,
        &src.metadata,
        &tmp.path().join("l2tww_two_iterations.safetensors"),
    )
    .unwrap();
    let out = l2tww(&["conformance", tmp.path().to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("l2tww_two_iterations.safetensors")
            && stderr.contains("missing (1): s0.lwnet.1.bias"),
        "{stderr}"
    );
}
