//! Computing a statistics folder: the source network runs (evaluation mode, no augmentation)
//! over the chosen images; every image's globally average-pooled feature at each tap is kept —
//! exactly the input of the L2T-ww meta-networks — and each channel's mean and std and each
//! tap's LogME follow from those stored float32 values (accumulated in float64, in row order,
//! so the same inputs give the same bytes).

use super::logme::logme;
use super::spec::{Crop, HashedFile, Provenance, SourceStatsSpec, TapInfo, FORMAT};
use super::tables::{write_channels, write_features, write_logme, FeatureColumn, LayerTable};
use crate::data::{Augment, Loader, LoaderConfig, Store};
use crate::error::{Error, Result};
use crate::fsx;
use crate::models::Model;
use std::path::PathBuf;
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

/// The result of [`compute_source_stats`]: what was written, also in memory.
#[derive(Debug, Clone)]
pub struct SourceStats {
    /// The output folder.
    pub out: PathBuf,
    /// The provenance, as written to `stats.json`.
    pub provenance: Provenance,
    /// Every described tap, in the network's order.
    pub layers: Vec<LayerTable>,
}

impl SourceStats {
    /// The taps from the highest LogME to the lowest (non-finite scores last).
    pub fn ranking(&self) -> Vec<&LayerTable> {
        let mut r: Vec<&LayerTable> = self.layers.iter().collect();
        r.sort_by(|a, b| {
            let key = |l: &LayerTable| {
                if l.logme.is_finite() {
                    l.logme
                } else {
                    f64::MIN
                }
            };
            key(b).total_cmp(&key(a))
        });
        r
    }
}

/// Global average pooling over height and width, (batch, C, h, w) → (batch, C), in the map's
/// precision: what the L2T meta-networks read of a source feature map (they use this function).
pub fn gap(f: &Tensor) -> Tensor {
    f.mean_dim(&[2i64, 3][..], false, f.kind())
}

/// Population mean and standard deviation of each column of `values` (rows × channels).
pub fn channel_stats(values: &[f32], channels: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (values.len() / channels.max(1)).max(1) as f64;
    let mut mean = vec![0f64; channels];
    for row in values.chunks_exact(channels) {
        mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v as f64);
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0f64; channels];
    for row in values.chunks_exact(channels) {
        for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v as f64 - m).powi(2);
        }
    }
    (mean, var.into_iter().map(|s| (s / n).sqrt()).collect())
}

/// Computes the statistics `spec` asks for, on `device` in precision `kind`, and writes
/// `features.parquet`, `channels.parquet`, `logme.parquet` and, last, `stats.json` into
/// `spec.out`. Every file is written atomically, and a `stats.json` left from an earlier
/// computation is removed first, so a folder without `stats.json` is incomplete.
pub fn compute_source_stats(
    spec: &SourceStatsSpec,
    device: Device,
    kind: Kind,
) -> Result<SourceStats> {
    if spec.checkpoint.as_os_str().is_empty() || spec.data.as_os_str().is_empty() {
        return Err(Error::Invalid(
            "source statistics need a source checkpoint and a split file".into(),
        ));
    }
    if spec.out.as_os_str().is_empty() {
        return Err(Error::Invalid(
            "source statistics need an output folder".into(),
        ));
    }
    let store = Arc::new(Store::open(&spec.data)?);
    let subset = spec.subset(&store)?;
    let model = Model::from_checkpoint(&spec.checkpoint, device, kind)?;
    let all = model.net.taps();
    let chosen: Vec<usize> = match &spec.options.taps {
        None => (0..all.len()).collect(),
        Some(names) => names
            .iter()
            .map(|n| {
                all.iter().position(|t| &t.name == n).ok_or_else(|| {
                    let known: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
                    Error::Invalid(format!(
                        "{} has no tap `{n}`; its taps: {}",
                        model.arch,
                        known.join(", ")
                    ))
                })
            })
            .collect::<Result<_>>()?,
    };
    let lc = LoaderConfig {
        batch: spec.batching.batch,
        shuffle: false,
        augment: match spec.options.crop {
            Crop::None => Augment::None,
            Crop::Imagenet224 => Augment::Imagenet224Eval,
        },
        resize_to: spec.batching.resize_to,
        to_rgb: true,
        normalize: spec.options.normalize,
        seed: 0,
        device,
        threads: 0,
        drop_last: false,
    };
    let loader = Loader::new(store.clone(), &subset, lc)?;
    let (mut rows, mut labels) = (Vec::new(), Vec::new());
    let mut values: Vec<Vec<f32>> = vec![Vec::new(); chosen.len()];
    for batch in loader.epoch(0) {
        let b = batch?;
        let out = tch::no_grad(|| model.net.forward_t(&b.x.to_kind(kind), false));
        for (v, &t) in values.iter_mut().zip(&chosen) {
            let g = gap(&out.features[t])
                .to_kind(Kind::Float)
                .to_device(Device::Cpu);
            v.extend(Vec::<f32>::try_from(g.flatten(0, -1))?);
        }
        rows.extend(b.rows.iter().map(|&r| r as u64));
        labels.extend(Vec::<i64>::try_from(b.y.to_device(Device::Cpu))?);
    }
    let n = rows.len();
    let mut layers = Vec::with_capacity(chosen.len());
    for (v, &t) in values.iter().zip(&chosen) {
        let c = all[t].channels as usize;
        let (mean, std) = channel_stats(v, c);
        let f = Tensor::from_slice(v).view([n as i64, c as i64]);
        layers.push(LayerTable {
            layer: all[t].name.clone(),
            mean,
            std,
            logme: logme(&f, &labels)?,
        });
    }
    let mut provenance = Provenance {
        format: FORMAT.into(),
        key: String::new(),
        l2tww_version: env!("CARGO_PKG_VERSION").into(),
        checkpoint: HashedFile {
            path: spec.checkpoint.clone(),
            blake3: fsx::blake3_file(&spec.checkpoint)?,
        },
        arch: model.arch.to_string(),
        data: HashedFile {
            path: spec.data.clone(),
            blake3: fsx::blake3_file(&spec.data)?,
        },
        classes: spec.select.classes.clone(),
        per_class: spec.select.per_class,
        seed: spec.select.per_class.map(|_| spec.options.seed),
        images: n,
        resize_to: spec.batching.resize_to,
        normalize: spec.options.normalize,
        crop: spec.options.crop,
        precision: if kind == Kind::Double { "f64" } else { "f32" }.into(),
        std: "population (divided by N), of the stored float32 values, accumulated in float64"
            .into(),
        taps: chosen
            .iter()
            .map(|&t| TapInfo {
                name: all[t].name.clone(),
                channels: all[t].channels as usize,
            })
            .collect(),
    };
    provenance.key = provenance.compute_key();
    let json =
        serde_json::to_string_pretty(&provenance).map_err(|e| Error::Invalid(e.to_string()))?;

    let out = &spec.out;
    fsx::create_dir_all(out)?;
    let marker = out.join("stats.json");
    if marker.exists() {
        std::fs::remove_file(&marker).map_err(|e| Error::io(&marker, e))?;
    }
    let columns: Vec<FeatureColumn> = layers
        .iter()
        .zip(&values)
        .map(|(l, v)| FeatureColumn {
            name: &l.layer,
            channels: l.mean.len(),
            values: v,
        })
        .collect();
    write_features(&out.join("features.parquet"), &rows, &labels, &columns)?;
    write_channels(&out.join("channels.parquet"), &layers, &json)?;
    write_logme(&out.join("logme.parquet"), &layers, &json)?;
    fsx::write_atomic(&marker, json.as_bytes())?;
    Ok(SourceStats {
        out: out.clone(),
        provenance,
        layers,
    })
}
