//! Standardising the meta-networks' inputs: with a `channels.parquet` of `l2tww stats` for a
//! source, the L2T meta-networks read (GAP(S_m) − mean) / std per channel instead of GAP(S_m).
//! Off by default (the official computation). A channel whose std is 0 is only centred.

use crate::error::{Error, Result};
use crate::models::Tap;
use crate::transfer::stats::read_channels;
use serde::{Deserialize, Deserializer};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// Per-channel mean and std of each standardised source tap, as (1, C) tensors.
pub struct Standardization {
    per_tap: Vec<Option<(Tensor, Tensor)>>,
}

impl Standardization {
    /// From (tap name, means, stds) rows: every tap in `needed` (indices into `taps`) must be
    /// there with its channel count; `origin` names where they come from in errors.
    pub fn from_rows(
        taps: &[Tap],
        needed: &[usize],
        rows: &[(String, Vec<f64>, Vec<f64>)],
        origin: &Path,
        device: Device,
        kind: Kind,
    ) -> Result<Self> {
        let mut per_tap: Vec<Option<(Tensor, Tensor)>> = (0..taps.len()).map(|_| None).collect();
        for &t in needed {
            let tap = &taps[t];
            let (_, mean, std) = rows.iter().find(|r| r.0 == tap.name).ok_or_else(|| {
                Error::bad_file(
                    origin,
                    format!(
                        "no statistics of tap `{}`; compute them for every tap the pairs use",
                        tap.name
                    ),
                )
            })?;
            if mean.len() as i64 != tap.channels || std.len() != mean.len() {
                return Err(Error::bad_file(
                    origin,
                    format!(
                        "tap `{}` has {} channels in the statistics but {} in the source network; \
                         they describe another network",
                        tap.name,
                        mean.len(),
                        tap.channels
                    ),
                ));
            }
            let std: Vec<f64> = std.iter().map(|&s| if s > 0.0 { s } else { 1.0 }).collect();
            let t1 = |v: &[f64]| {
                Tensor::from_slice(v)
                    .view([1, -1])
                    .to_kind(kind)
                    .to_device(device)
            };
            per_tap[t] = Some((t1(mean), t1(&std)));
        }
        Ok(Standardization { per_tap })
    }

    /// Reads `channels.parquet` for a source of architecture `arch` with `taps`, keeping the taps
    /// in `needed`. Statistics of another architecture are refused.
    pub fn read(
        path: &Path,
        arch: &str,
        taps: &[Tap],
        needed: &[usize],
        device: Device,
        kind: Kind,
    ) -> Result<Self> {
        let (layers, meta) = read_channels(path)?;
        if let Some(theirs) = meta.get("arch").and_then(|a| a.as_str()) {
            if theirs != arch {
                return Err(Error::bad_file(
                    path,
                    format!("statistics of a {theirs}, but the source is a {arch}"),
                ));
            }
        }
        let rows: Vec<(String, Vec<f64>, Vec<f64>)> = layers
            .into_iter()
            .map(|l| (l.layer, l.mean, l.std))
            .collect();
        Self::from_rows(taps, needed, &rows, path, device, kind)
    }

    /// Standardises the pooled features `g` (batch, C) of tap `tap` (unchanged when the tap has
    /// no statistics).
    pub fn apply(&self, tap: usize, g: Tensor) -> Tensor {
        match self.per_tap.get(tap).and_then(Option::as_ref) {
            Some((mean, std)) => (g - mean) / std,
            None => g,
        }
    }
}

/// Deserialises one path or a list of paths into a list.
pub fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(PathBuf),
        Many(Vec<PathBuf>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(p) => vec![p],
        OneOrMany::Many(v) => v,
    })
}
