//! `l2tww train CONFIG.yaml`: one training run described in YAML — the data (prepared Parquet
//! splits, optional subsets or class and per-class choices), the target architecture, the source
//! checkpoints, the method with its options, the optimisation and evaluation settings, the seed
//! and the output folder. Unknown keys are errors. The parts a pipeline's `train` stage writes
//! at its top level ([`RunSettings`], [`TargetConfig`], the data's [`Selection`], [`Batching`]
//! and [`DataOptions`]) are flattened in, so each option is declared once.

use crate::data::{Batching, Selection};
use crate::error::{Error, Result};
use crate::fsx;
use crate::models::Arch;
use crate::transfer::engine::{EvalConfig, OptimConfig};
use crate::transfer::methods::MethodSpec;
use crate::yaml::bounds::Checked;
use crate::yaml::{self, FieldError};
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

/// How the training images are served besides which ([`Selection`]) and in what batches
/// ([`Batching`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DataOptions {
    /// Seed of the per-class choice (default: the run's seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset_seed: Option<u64>,
    /// Training augmentation.
    #[serde(default)]
    pub augment: AugmentSpec,
    /// Loader threads (0: the run's thread budget). They shape no result, so they are in no
    /// checkpoint fingerprint and no cache key.
    #[serde(default)]
    pub loader_threads: usize,
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
    /// The classes (in every split) and the training images per class.
    #[serde(flatten)]
    pub select: Selection,
    /// Batch size and resize.
    #[serde(flatten)]
    pub batching: Batching,
    /// Subset seed, augmentation, loader threads.
    #[serde(flatten)]
    pub options: DataOptions,
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

/// The settings of a run besides its data and networks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunSettings {
    /// Seed of initialisation, batches and augmentation.
    #[serde(default)]
    pub seed: u64,
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
}

/// One training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TrainConfig {
    /// Seed, method, optimisation, evaluation.
    #[serde(flatten)]
    pub run: RunSettings,
    /// The data.
    pub data: DataConfig,
    /// The target network.
    pub target: TargetConfig,
    /// Source networks (none for `scratch`).
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Output folder: checkpoint, metrics, summary, final weights.
    pub out: PathBuf,
    /// A content key of everything the paths name, when the caller has one (the pipeline's
    /// cache key); never read from a file. With it the checkpoint fingerprint leaves the paths
    /// out, so a run continues after its cache was moved.
    #[serde(skip)]
    pub identity: Option<String>,
}

fn scratch() -> MethodSpec {
    MethodSpec::Scratch
}

impl RunSettings {
    /// What can be checked before any training, each error at its path (`optim.lr`,
    /// `method.l2t-ww.T`): every number of the optimisation and of the method's options, and
    /// their relations — the L2T look-ahead uses heavy-ball momentum, as the official code.
    pub fn check(&self) -> Checked {
        self.optim.check().map_err(|e| e.within(&["optim"]))?;
        self.method.check().map_err(|e| e.within(&["method"]))?;
        let l2t = matches!(self.method, MethodSpec::L2tW(_) | MethodSpec::L2tWw(_));
        if self.optim.nesterov && l2t {
            return Err(FieldError::at(
                &["optim", "nesterov"],
                format!(
                    "{}'s look-ahead uses heavy-ball momentum, as the official code: set \
                     `nesterov: false`",
                    self.method.name()
                ),
            ));
        }
        Ok(())
    }
}

impl TrainConfig {
    /// Reads a configuration; relative paths in it are taken from the file's folder. Errors
    /// name the file, line and column of the bad value: a value of the wrong type, a number out
    /// of its range.
    pub fn read(path: &Path) -> Result<Self> {
        let text = fsx::read_to_string(path)?;
        let at = |pos: yaml::Pos, msg: String| Error::At {
            path: path.to_path_buf(),
            line: pos.line,
            col: pos.col,
            msg,
        };
        let node = yaml::parse(&text).map_err(|e| at(e.pos, e.msg))?;
        let located = |e: FieldError| at(node.locate(&e.path), e.shown());
        let mut cfg: TrainConfig = yaml::typed(&node.to_json()).map_err(located)?;
        cfg.check().map_err(located)?;
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
        cfg.run.method.paths_mut().into_iter().for_each(fix);
        Ok(cfg)
    }

    /// Checks what needs no file: every number and relation of the run settings, the data's
    /// choice and batching, the architecture's name; the error's path is the key's.
    pub fn check(&self) -> Checked {
        self.run.check()?;
        self.data.select.check().map_err(|e| e.within(&["data"]))?;
        self.data
            .batching
            .check()
            .map_err(|e| e.within(&["data"]))?;
        self.target
            .arch
            .parse::<Arch>()
            .map_err(|e| FieldError::at(&["target", "arch"], e.to_string()))?;
        Ok(())
    }

    /// A fingerprint of everything that shapes the run (checkpoints of another are refused):
    /// not the output folder or the loader threads, and with an [`identity`](Self::identity)
    /// not the paths either.
    pub fn fingerprint(&self) -> String {
        let mut c = self.clone();
        c.out = PathBuf::new();
        c.data.options.loader_threads = 0;
        if c.identity.is_some() {
            for p in [&mut c.data.train, &mut c.data.val, &mut c.data.test] {
                *p = PathBuf::new();
            }
            c.sources
                .iter_mut()
                .for_each(|s| s.checkpoint = PathBuf::new());
            c.run
                .method
                .paths_mut()
                .into_iter()
                .for_each(|p| *p = PathBuf::new());
        }
        let text = serde_json::to_string(&c).expect("configs serialise");
        let mut h = blake3::Hasher::new();
        h.update(text.as_bytes());
        if let Some(id) = &c.identity {
            h.update(b"\0");
            h.update(id.as_bytes());
        }
        h.finalize().to_hex().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> TrainConfig {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("train.yaml");
        std::fs::write(&p, text).unwrap();
        TrainConfig::read(&p).unwrap()
    }

    const BASE: &str = "data: {train: a, val: b, test: c, per-class: 5, loader-threads: 2}\n\
                        target: {arch: resnet8}\nout: o\noptim: {epochs: 3}\n";

    #[test]
    fn the_fingerprint_ignores_the_loader_threads_and_with_an_identity_the_paths() {
        let a = config(BASE);
        assert_eq!((a.data.select.per_class, a.run.optim.epochs), (Some(5), 3));
        let mut b = a.clone();
        b.data.options.loader_threads = 1;
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.data.select.per_class = Some(6);
        assert_ne!(a.fingerprint(), b.fingerprint());
        let (mut c, mut d) = (a.clone(), a.clone());
        c.identity = Some("k".into());
        d.identity = Some("k".into());
        d.data.train = "/elsewhere/train.parquet".into();
        assert_eq!(c.fingerprint(), d.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn numbers_out_of_range_are_reported_at_their_key_with_the_range() {
        let e = read_err(&BASE.replace("epochs: 3", "epochs: 3, lr: -0.05"));
        assert!(
            e.contains("train.yaml:4:") && e.contains("`optim.lr`") && e.contains("> 0"),
            "{e}"
        );
        let e = read_err(&format!("{BASE}method: {{l2t-ww: {{meta-every: 0}}}}\n"));
        assert!(
            e.contains("train.yaml:5:") && e.contains("`method.l2t-ww.meta-every`"),
            "{e}"
        );
        let e = read_err(&BASE.replace("per-class: 5", "per-class: 0"));
        assert!(
            e.contains("`data.per-class`") && e.contains("at least 1"),
            "{e}"
        );
    }

    fn read_err(text: &str) -> String {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("train.yaml");
        std::fs::write(&p, text).unwrap();
        TrainConfig::read(&p).unwrap_err().to_string()
    }

    #[test]
    fn a_bad_value_is_reported_at_its_line_and_column() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("train.yaml");
        std::fs::write(&p, BASE.replace("per-class: 5", "per-class: five")).unwrap();
        let e = TrainConfig::read(&p).unwrap_err().to_string();
        assert!(
            e.contains("train.yaml:1:") && e.contains("`data.per-class`"),
            "{e}"
        );
        std::fs::write(&p, format!("{BASE}sed: 1\n")).unwrap();
        let e = TrainConfig::read(&p).unwrap_err().to_string();
        assert!(e.contains("train.yaml:5:1:") && e.contains("`sed`"), "{e}");
    }
}
