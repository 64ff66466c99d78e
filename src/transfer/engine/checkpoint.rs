//! Checkpoints: everything a run needs to continue exactly where it stopped — the target's
//! variables (batch-norm statistics included), the method's trained parameters and state
//! (meta-networks, their optimizer), the SGD momentum buffers, the epochs done so far and their
//! records, the method's statistics before training, and the target's weights at the best
//! validation epoch so far (tested at the end) — in one safetensors file written atomically.

use super::evaluate::Snapshot;
use super::method::Method;
use crate::error::{Error, Result};
use crate::models::weights::{load_named, save_tensors, WeightFile};
use crate::transfer::meta::Sgd;
use crate::transfer::record::EpochRecord;
use std::collections::BTreeMap;
use std::path::Path;
use tch::{nn::VarStore, Tensor};

/// A run's progress besides the tensors a checkpoint copies in place.
#[derive(Debug, Default)]
pub struct Progress {
    /// Records of the epochs already done.
    pub records: Vec<EpochRecord>,
    /// The method's statistics over the validation set before training.
    pub initial_stats: BTreeMap<String, f64>,
    /// The index in `records` of the best validation epoch so far and the target's weights
    /// then (kept when the test split is evaluated only at the end).
    pub best: Option<(usize, Snapshot)>,
}

/// Writes a checkpoint after `progress.records.len()` epochs.
pub fn save(
    path: &Path,
    target: &VarStore,
    method: &dyn Method,
    sgd: &Sgd,
    progress: &Progress,
    fingerprint: &str,
) -> Result<()> {
    let records = &progress.records;
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
    if let Some((_, best)) = &progress.best {
        for (n, t) in &best.vars {
            tensors.push((format!("best.{n}"), t.shallow_clone()));
        }
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let mut meta = BTreeMap::from([
        ("epochs_done".to_string(), records.len().to_string()),
        ("fingerprint".to_string(), fingerprint.to_string()),
        ("records".to_string(), json(records)?),
        ("initial_stats".to_string(), json(&progress.initial_stats)?),
    ]);
    if let Some((i, _)) = &progress.best {
        meta.insert("best_index".to_string(), i.to_string());
    }
    save_tensors(&tensors, &meta, path)
}

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Invalid(e.to_string()))
}

/// Restores a checkpoint written for the same configuration (`fingerprint`) into the target,
/// the method and the optimizer, and returns the run's progress.
pub fn load(
    path: &Path,
    target: &VarStore,
    method: &mut dyn Method,
    sgd: &mut Sgd,
    fingerprint: &str,
) -> Result<Progress> {
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
    let initial_stats = match file.metadata.get("initial_stats") {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| Error::bad_file(path, format!("unreadable initial statistics: {e}")))?,
        None => BTreeMap::new(),
    };
    let best = match file.metadata.get("best_index") {
        Some(i) => {
            let i: usize = i
                .parse()
                .map_err(|_| Error::bad_file(path, format!("unreadable best_index `{i}`")))?;
            let device = target.device();
            let vars = file
                .with_prefix("best.")
                .into_iter()
                .map(|(n, t)| (n, t.to_device(device)))
                .collect();
            Some((i, Snapshot { vars }))
        }
        None => None,
    };
    Ok(Progress {
        records,
        initial_stats,
        best,
    })
}
