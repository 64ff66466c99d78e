//! Checkpoints: everything a run needs to continue exactly where it stopped — the target's
//! variables (batch-norm statistics included), the method's trained parameters and state
//! (meta-networks, their optimizer), the SGD momentum buffers, the epochs done so far and their
//! records — in one safetensors file written atomically.

use super::method::Method;
use crate::error::{Error, Result};
use crate::models::weights::{load_named, save_tensors, WeightFile};
use crate::transfer::meta::Sgd;
use crate::transfer::record::EpochRecord;
use std::collections::BTreeMap;
use std::path::Path;
use tch::{nn::VarStore, Tensor};

/// What a checkpoint restores besides the tensors it copies in place.
pub struct Restored {
    /// Records of the epochs already done.
    pub records: Vec<EpochRecord>,
}

/// Writes a checkpoint after `records.len()` epochs.
pub fn save(
    path: &Path,
    target: &VarStore,
    method: &dyn Method,
    sgd: &Sgd,
    records: &[EpochRecord],
    fingerprint: &str,
) -> Result<()> {
    let mut tensors: Vec<(String, Tensor)> = target
        .variables()
        .into_iter()
        .map(|(n, t)| (format!("target.{n}"), t))
        .collect();
    for (n, t) in method.trained_params().into_iter().chain(method.state()) {
        tensors.push((format!("method.{n}"), t));
    }
    for (i, b) in sgd.buffers().iter().enumerate() {
        if let Some(b) = b {
            tensors.push((format!("sgd.buf.{i}"), b.shallow_clone()));
        }
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let meta = BTreeMap::from([
        ("epochs_done".to_string(), records.len().to_string()),
        ("fingerprint".to_string(), fingerprint.to_string()),
        (
            "records".to_string(),
            serde_json::to_string(records).map_err(|e| Error::Invalid(e.to_string()))?,
        ),
    ]);
    save_tensors(&tensors, &meta, path)
}

/// Restores a checkpoint written for the same configuration (`fingerprint`) into the target,
/// the method and the optimizer.
pub fn load(
    path: &Path,
    target: &VarStore,
    method: &mut dyn Method,
    sgd: &mut Sgd,
    fingerprint: &str,
) -> Result<Restored> {
    let file = WeightFile::read(path)?;
    if file.meta("fingerprint")? != fingerprint {
        return Err(Error::bad_file(path, "this checkpoint belongs to another configuration; delete it (or the run's folder) to start afresh"));
    }
    load_named(target, &file.with_prefix("target."), path, "target")?;
    let saved = file.with_prefix("method.");
    let trained = method.trained_params();
    tch::no_grad(|| -> Result<()> {
        for (name, var) in &trained {
            let src = saved
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t)
                .ok_or_else(|| {
                    Error::bad_file(path, format!("tensor `method.{name}` is missing"))
                })?;
            var.shallow_clone()
                .copy_(&src.to_kind(var.kind()).to_device(var.device()));
        }
        Ok(())
    })?;
    let rest: Vec<(String, Tensor)> = saved
        .into_iter()
        .filter(|(n, _)| !trained.iter().any(|(m, _)| m == n))
        .collect();
    method.load_state(&rest)?;
    let device = sgd
        .params()
        .first()
        .map(|p| p.device())
        .unwrap_or(tch::Device::Cpu);
    let bufs = (0..sgd.params().len())
        .map(|i| {
            file.get(&format!("sgd.buf.{i}"))
                .ok()
                .map(|t| t.to_kind(sgd.params()[i].kind()).to_device(device))
        })
        .collect();
    sgd.set_buffers(bufs);
    let records: Vec<EpochRecord> = serde_json::from_str(file.meta("records")?)
        .map_err(|e| Error::bad_file(path, format!("unreadable records: {e}")))?;
    Ok(Restored { records })
}
