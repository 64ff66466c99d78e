//! `l2tww train CONFIG.yaml`: one training run described in YAML — the data (prepared Parquet
//! splits, optional subsets or class and per-class choices), the target architecture, the source
//! checkpoints, the method with its options, the optimisation and evaluation settings, the seed
//! and the output folder. Unknown keys are errors.

use crate::error::{Error, Result};
use crate::fsx;
use crate::transfer::engine::{EvalConfig, OptimConfig};
use crate::transfer::methods::MethodSpec;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Augmentation of the training images (evaluation images are never augmented).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AugmentSpec {
    /// Pad 4, random 32×32 crop, horizontal flip.
    #[default]
    Cifar32,
    /// Random-resized crop to 224 and flip; evaluation: resize 256, center crop 224.
    Imagenet224,
    /// None.
    None,
}

/// Where the images come from and how they are served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DataConfig {
    /// Training split (Parquet, from `l2tww data prepare`).
    pub train: PathBuf,
    /// Validation split.
    pub val: PathBuf,
    /// Test split.
    pub test: PathBuf,
    /// Keep only these classes (original ids), relabelled 0.. in this order, in every split.
    #[serde(default)]
    pub classes: Option<Vec<i64>>,
    /// Training images per class (stratified, seeded by `subset-seed`, nested across sizes).
    #[serde(default)]
    pub per_class: Option<usize>,
    /// Seed of the per-class choice (default: the run's seed).
    #[serde(default)]
    pub subset_seed: Option<u64>,
    /// Batch size.
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Training augmentation.
    #[serde(default)]
    pub augment: AugmentSpec,
    /// Resize every image to this size first (e.g. 32 for STL-10 in the 32×32 setting).
    #[serde(default)]
    pub resize_to: Option<usize>,
    /// Loader threads (0: all cores).
    #[serde(default)]
    pub loader_threads: usize,
}

fn default_batch() -> usize {
    64
}

/// A source network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SourceConfig {
    /// Its checkpoint (safetensors, official parameter names); the architecture is recognised.
    pub checkpoint: PathBuf,
}

/// The network trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TargetConfig {
    /// Architecture (`vgg9-bn`, `resnet32`, …).
    pub arch: String,
}

/// One training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TrainConfig {
    /// Seed of initialisation, batches and augmentation.
    #[serde(default)]
    pub seed: u64,
    /// The data.
    pub data: DataConfig,
    /// The target network.
    pub target: TargetConfig,
    /// Source networks (none for `scratch`).
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// The method and its options.
    #[serde(default = "scratch")]
    pub method: MethodSpec,
    /// SGD settings and epochs.
    #[serde(default)]
    pub optim: OptimConfig,
    /// When the test split is evaluated (`eval: {test: best}` by default: once, for the best
    /// validation epoch and the last; `every-epoch` for the per-epoch curve).
    #[serde(default)]
    pub eval: EvalConfig,
    /// Output folder: checkpoint, metrics, summary, final weights.
    pub out: PathBuf,
}

fn scratch() -> MethodSpec {
    MethodSpec::Scratch
}

impl TrainConfig {
    /// Reads a configuration; relative paths in it are taken from the file's folder.
    pub fn read(path: &Path) -> Result<Self> {
        let text = fsx::read_to_string(path)?;
        let mut cfg: TrainConfig = serde_yaml_ng::from_str(&text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(":{}:{}", l.line(), l.column()))
                .unwrap_or_default();
            Error::Invalid(format!("{}{at}: {e}", path.display()))
        })?;
        let base = fsx::parent_dir(path);
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut cfg.data.train);
        fix(&mut cfg.data.val);
        fix(&mut cfg.data.test);
        fix(&mut cfg.out);
        cfg.sources.iter_mut().for_each(|s| fix(&mut s.checkpoint));
        cfg.method.resolve_paths(&base);
        Ok(cfg)
    }

    /// A fingerprint of everything that shapes the run (checkpoints of another are refused).
    pub fn fingerprint(&self) -> String {
        let mut c = self.clone();
        c.out = PathBuf::new();
        blake3::hash(
            serde_json::to_string(&c)
                .expect("configs serialise")
                .as_bytes(),
        )
        .to_hex()
        .to_string()
    }
}
