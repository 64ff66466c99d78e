//! What a `source-stats` computation is asked for (`SourceStatsSpec`, a serde struct the pipeline
//! reads from YAML) and what it records about its inputs (`Provenance`, the `stats.json`): the
//! content hashes of the weights and the data, the subset choice, the preprocessing and the taps,
//! with the key derived from them.

use crate::data::{Batching, Selection, Store, Subset};
use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The version of the output format; part of the key.
pub const FORMAT: &str = "l2tww.source-stats/1";

/// The crop of the images, as the training loader's evaluation transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Crop {
    /// The images as stored (after `resize-to`), as the 32×32 settings use them.
    #[default]
    None,
    /// Resize to 256 and center-crop 224, as the 224×224 settings evaluate.
    Imagenet224,
}

/// The options of a statistics computation besides its files, its images ([`Selection`]) and
/// their batching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StatsOptions {
    /// Seed of the per-class choice (a training run's `subset-seed`, or its `seed` when that
    /// is unset).
    #[serde(default)]
    pub seed: u64,
    /// Normalise with the ImageNet mean and std, as the training loader does.
    #[serde(default = "yes")]
    pub normalize: bool,
    /// The crop.
    #[serde(default)]
    pub crop: Crop,
    /// The taps to describe, by name (default: every tap, the candidate layers of L2T-ww).
    #[serde(default)]
    pub taps: Option<Vec<String>>,
}

impl Default for StatsOptions {
    fn default() -> Self {
        StatsOptions {
            seed: 0,
            normalize: true,
            crop: Crop::None,
            taps: None,
        }
    }
}

/// One source-statistics computation: a source network, one split (or a subset of it), the
/// preprocessing, and where to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SourceStatsSpec {
    /// The source network's checkpoint (safetensors; the architecture is recognised). The
    /// pipeline fills it in (and `data`, `out`): its `source-stats` stage writes the rest.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub checkpoint: PathBuf,
    /// The split (Parquet, from `l2tww data prepare`).
    #[serde(default, skip_serializing_if = "is_empty")]
    pub data: PathBuf,
    /// The classes (relabelled 0.. in this order, as a training run's) and images per class,
    /// chosen as a training run with the same `per-class` and seed does.
    #[serde(flatten)]
    pub select: Selection,
    /// Images per forward pass (does not change the results) and the resize, as the training
    /// run's `resize-to`.
    #[serde(flatten)]
    pub batching: Batching,
    /// Seed, normalisation, crop, taps.
    #[serde(flatten)]
    pub options: StatsOptions,
    /// The output folder (the pipeline sets it to the stage's folder).
    #[serde(default, skip_serializing_if = "is_empty")]
    pub out: PathBuf,
}

fn is_empty(p: &Path) -> bool {
    p.as_os_str().is_empty()
}

fn yes() -> bool {
    true
}

impl SourceStatsSpec {
    /// A spec with the defaults for `checkpoint`, `data` and `out`.
    pub fn new(checkpoint: PathBuf, data: PathBuf, out: PathBuf) -> Self {
        SourceStatsSpec {
            checkpoint,
            data,
            select: Selection::default(),
            batching: Batching::default(),
            options: StatsOptions::default(),
            out,
        }
    }

    /// The rows of `store` this spec describes: its classes, then `per-class` of each — the
    /// choice `transfer::train` makes for the training split.
    pub fn subset(&self, store: &Store) -> Result<Subset> {
        self.select
            .subset(store, self.select.per_class, self.options.seed)
    }
}

/// A hashed input file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HashedFile {
    /// Where it was read.
    pub path: PathBuf,
    /// blake3 of its bytes.
    pub blake3: String,
}

/// One described tap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TapInfo {
    /// The tap's name (its module's parameter path).
    pub name: String,
    /// Its channel count (the length of its pooled feature).
    pub channels: usize,
}

/// What produced a statistics folder: `stats.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// [`FORMAT`].
    pub format: String,
    /// blake3 of the content below (everything but paths, `images` and the l2tww version).
    pub key: String,
    /// The l2tww version that wrote it.
    pub l2tww_version: String,
    /// The source checkpoint.
    pub checkpoint: HashedFile,
    /// Its architecture.
    pub arch: String,
    /// The split file.
    pub data: HashedFile,
    /// The class choice, or null for all classes.
    pub classes: Option<Vec<i64>>,
    /// Images per class, or null for all.
    pub per_class: Option<usize>,
    /// Seed of the per-class choice (null without one).
    pub seed: Option<u64>,
    /// Images described.
    pub images: usize,
    /// Resize before anything else.
    pub resize_to: Option<usize>,
    /// ImageNet normalisation.
    pub normalize: bool,
    /// The crop.
    pub crop: Crop,
    /// `f32` or `f64`: the precision of the forward pass.
    pub precision: String,
    /// How `std` in `channels.parquet` is defined.
    pub std: String,
    /// The taps, in the network's order.
    pub taps: Vec<TapInfo>,
}

impl Provenance {
    /// The key: blake3 of the canonical JSON of the hashed inputs, the subset choice, the
    /// preprocessing, the precision and the taps (not of paths or versions).
    pub fn compute_key(&self) -> String {
        let content = serde_json::json!({
            "format": self.format,
            "checkpoint": self.checkpoint.blake3,
            "data": self.data.blake3,
            "classes": self.classes,
            "per_class": self.per_class,
            "seed": self.seed,
            "resize_to": self.resize_to,
            "normalize": self.normalize,
            "crop": self.crop,
            "precision": self.precision,
            "taps": self.taps,
        });
        blake3::hash(content.to_string().as_bytes())
            .to_hex()
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_reads_from_kebab_case_yaml_and_refuses_unknown_keys() {
        let s: SourceStatsSpec = serde_yaml_ng::from_str(
            "checkpoint: s.safetensors\ndata: train.parquet\nper-class: 10\nseed: 3\n\
             resize-to: 32\ncrop: imagenet224\ntaps: [block1]\n",
        )
        .unwrap();
        assert_eq!(
            (
                s.select.per_class,
                s.options.seed,
                s.batching.resize_to,
                s.options.crop,
                s.batching.batch,
                s.options.normalize
            ),
            (Some(10), 3, Some(32), Crop::Imagenet224, 64, true)
        );
        assert!(s.out.as_os_str().is_empty());
        let e = serde_yaml_ng::from_str::<SourceStatsSpec>(
            "checkpoint: s.safetensors\ndata: t.parquet\nper_class: 10\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("per_class"), "{e}");
    }
}
