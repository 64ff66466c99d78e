//! Safetensors weights by name: round trips, the official checkpoint loading as it is, and
//! clear errors for mis-named, mis-shaped and corrupt files.

use crate::util::{l2tww, reference_dir, text};
use l2tww::models::weights::{load, save, save_tensors, WeightFile};
use l2tww::models::{Arch, Model};
use std::collections::BTreeMap;
use tch::{Device, Kind, Tensor};

fn resnet20() -> Model {
    Model::new(Arch::CifarResNet(20), 10, Device::Cpu, Kind::Float).unwrap()
}

#[test]
fn a_saved_model_loads_back_with_identical_outputs_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let a = resnet20();
    let meta = BTreeMap::from([("num_classes".to_string(), "10".to_string())]);
    save(&a.vs, &meta, &path).unwrap();
    let b = resnet20();
    let read_meta = load(&b.vs, &path, "resnet20").unwrap();
    assert_eq!(read_meta, meta);
    let x = Tensor::randn([3, 3, 32, 32], (Kind::Float, Device::Cpu));
    let (ya, yb) = tch::no_grad(|| (a.net.logits_t(&x, false), b.net.logits_t(&x, false)));
    assert_eq!(f64::try_from((ya - yb).abs().max()).unwrap(), 0.0);
    let from_file = Model::from_checkpoint(&path, Device::Cpu, Kind::Float).unwrap();
    assert_eq!(from_file.arch, Arch::CifarResNet(20));
}

#[test]
fn a_renamed_and_a_misshaped_tensor_are_both_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.safetensors");
    let mut named: Vec<(String, Tensor)> = resnet20().vs.variables().into_iter().collect();
    for (name, t) in named.iter_mut() {
        if name == "block1.conv1.weight" {
            *name = "block1.convX.weight".into();
        } else if name == "fc.weight" {
            *t = Tensor::zeros([11, 64], (Kind::Float, Device::Cpu));
        }
    }
    save_tensors(&named, &BTreeMap::new(), &path).unwrap();
    let err = load(&resnet20().vs, &path, "resnet20")
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.safetensors"), "{err}");
    assert!(err.contains("missing (1): block1.conv1.weight"), "{err}");
    assert!(err.contains("unexpected (1): block1.convX.weight"), "{err}");
    assert!(
        err.contains("fc.weight: file [11, 64], model [10, 64]"),
        "{err}"
    );
}

#[test]
fn a_truncated_file_is_an_error_naming_it_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.safetensors");
    save(&resnet20().vs, &BTreeMap::new(), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert!(WeightFile::read(&path).is_err());
    let out = l2tww(&["inspect", path.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("cut.safetensors") && stderr.contains("not a valid safetensors"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_official_checkpoint_loads_with_no_renaming_table() {
    let Some(dir) = reference_dir() else { return };
    let path = dir.join("resnet32_tinyimagenet.safetensors");
    let file = WeightFile::read(&path).unwrap();
    let model = Model::new(Arch::CifarResNet(32), 200, Device::Cpu, Kind::Float).unwrap();
    let mut ours: Vec<String> = model.vs.variables().into_keys().collect();
    let mut theirs: Vec<String> = file.tensors.iter().map(|(n, _)| n.clone()).collect();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);
    let loaded = Model::from_checkpoint(&path, Device::Cpu, Kind::Float).unwrap();
    assert_eq!(loaded.arch, Arch::CifarResNet(32));
    assert_eq!(loaded.net.num_classes(), 200);
    // The wrong architecture for it is refused with the blocks it lacks.
    let err = load(&resnet20().vs, &path, "resnet20")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unexpected") && err.contains("blocks2.2.conv1.weight"),
        "{err}"
    );
}

#[test]
fn inspect_shows_names_shapes_parameters_and_metadata() {
    let Some(dir) = reference_dir() else { return };
    let path = dir.join("resnet32_tinyimagenet.safetensors");
    let out = l2tww(&["inspect", path.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("block3.downsample.0.weight") && stdout.contains("[32, 16, 1, 1]"),
        "{stdout}"
    );
    assert!(stdout.contains("tensors: 168"), "{stdout}");
    assert!(
        stdout.contains("architecture: resnet32 with 200 classes"),
        "{stdout}"
    );
    assert!(
        stdout.contains("num_classes: 200") && stdout.contains("test_top1: 49.15"),
        "{stdout}"
    );
    // Trainable parameters of the official ResNet32 with a 200-way head.
    let model = Model::new(Arch::CifarResNet(32), 200, Device::Cpu, Kind::Float).unwrap();
    let params: i64 = model
        .vs
        .trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum();
    assert!(
        stdout.contains(&format!("parameters: {params} ")),
        "{stdout}"
    );
}
