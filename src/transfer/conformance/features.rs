//! The feature cases: `resnet32_features` (the official ResNet32 checkpoint, eval mode) and
//! `vgg9bn_features` (VGG9-bn at initialisation, eval and train mode). The architecture and
//! class count come from the weights, the batch and input size from the files.

use super::compare::{rel_err, Group};
use crate::error::{Error, Result};
use crate::models::{weights::WeightFile, Arch, Model};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// The checkpoint the ResNet feature case runs, read from the same directory.
pub const RESNET_CHECKPOINT: &str = "resnet32_tinyimagenet.safetensors";

fn compare_forward(
    model: &Model,
    file: &WeightFile,
    input: &Tensor,
    prefix: &str,
    train: bool,
) -> Result<Vec<Group>> {
    let out = tch::no_grad(|| model.net.forward_t(input, train));
    let mut groups = vec![Group {
        name: format!("{prefix}logits"),
        rel_err: rel_err(&out.logits, file.get(&format!("{prefix}logits"))?),
    }];
    let n_ref = file
        .tensors
        .iter()
        .filter(|(k, _)| {
            k.strip_prefix(prefix)
                .is_some_and(|r| r.starts_with("feature."))
        })
        .count();
    if n_ref != out.features.len() {
        return Err(Error::bad_file(
            &file.path,
            format!(
                "{n_ref} reference features `{prefix}feature.*` but {} has {} taps",
                model.arch,
                out.features.len()
            ),
        ));
    }
    for (i, f) in out.features.iter().enumerate() {
        let name = format!("{prefix}feature.{i}");
        groups.push(Group {
            rel_err: rel_err(f, file.get(&name)?),
            name,
        });
    }
    Ok(groups)
}

/// `resnet32_features`: the checkpoint in `dir`, float64, eval mode, on the file's input.
pub fn resnet_features(
    dir: &Path,
    file: &WeightFile,
    dev: Device,
) -> Result<Vec<(String, Vec<Group>)>> {
    let ckpt = dir.join(RESNET_CHECKPOINT);
    if !ckpt.exists() {
        return Err(Error::bad_file(
            &file.path,
            format!("this case needs the source checkpoint {}", ckpt.display()),
        ));
    }
    let model = Model::from_checkpoint(&ckpt, dev, Kind::Double)?;
    let input = file.get("input")?.to_kind(Kind::Double).to_device(dev);
    Ok(vec![(
        String::new(),
        compare_forward(&model, file, &input, "", false)?,
    )])
}

/// `vgg9bn_features`: the weights stored in the file itself, eval then train mode.
pub fn vgg_features(file: &WeightFile, dev: Device) -> Result<Vec<(String, Vec<Group>)>> {
    let weights: Vec<(String, Tensor)> = file
        .tensors
        .iter()
        .filter(|(k, _)| k != "input" && !k.starts_with("eval.") && !k.starts_with("train."))
        .map(|(k, t)| (k.clone(), t.shallow_clone()))
        .collect();
    let (arch, classes) =
        Arch::infer(&weights).map_err(|e| Error::bad_file(&file.path, e.to_string()))?;
    let model = Model::new(arch, classes, dev, Kind::Double)?;
    crate::models::weights::load_named(&model.vs, &weights, &file.path, &arch.to_string())?;
    let input = file.get("input")?.to_kind(Kind::Double).to_device(dev);
    // Eval first: a train-mode pass updates the running statistics that eval mode reads.
    let eval = compare_forward(&model, file, &input, "eval.", false)?;
    let train = compare_forward(&model, file, &input, "train.", true)?;
    Ok(vec![("eval".into(), eval), ("train".into(), train)])
}
