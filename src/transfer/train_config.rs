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

/// The keys of a configuration's top level: [`RunSettings`]' and the configuration's own. The
/// struct flattens others, so serde cannot list them when a key is unknown (a test checks the
/// list against the type).
const TOP_KEYS: &[&str] = &[
    "seed", "method", "optim", "eval", "data", "target", "sources", "out",
];

/// The keys of `data:`: the splits, [`Selection`]'s, [`Batching`]'s and [`DataOptions`]'.
const DATA_KEYS: &[&str] = &[
    "train",
    "val",
    "test",
    "classes",
    "per-class",
    "batch",
    "resize-to",
    "subset-seed",
    "augment",
    "loader-threads",
];

/// The valid keys beside an unknown one at `path`, where serde does not list them.
fn keys_at(path: &[String]) -> &'static [&'static str] {
    match path {
        [_] => TOP_KEYS,
        [data, _] if data == "data" => DATA_KEYS,
        _ => &[],
    }
}

impl TrainConfig {
    /// Reads a configuration; relative paths in it are taken from the file's folder. Errors
    /// name the file, line and column of the bad value or key (an unknown key with the nearest
    /// valid one): a value of the wrong type, a number out of its range, a file it names that
    /// does not exist.
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
        let mut cfg: TrainConfig = yaml::typed(&node.to_json()).map_err(|e| {
            let names = keys_at(&e.path);
            located(e.suggest(names))
        })?;
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
        if let Some((key, file)) = cfg.inputs().into_iter().find(|(_, f)| !f.exists()) {
            let msg = format!("{} does not exist", file.display());
            return Err(located(FieldError { path: key, msg }));
        }
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

    /// The files the run reads, each with its key's path in the configuration.
    pub fn inputs(&self) -> Vec<(Vec<String>, &Path)> {
        let key = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut files = vec![
            (key(&["data", "train"]), self.data.train.as_path()),
            (key(&["data", "val"]), self.data.val.as_path()),
            (key(&["data", "test"]), self.data.test.as_path()),
        ];
        for (i, s) in self.sources.iter().enumerate() {
            let i = i.to_string();
            files.push((key(&["sources", &i, "checkpoint"]), s.checkpoint.as_path()));
        }
        let name = self.run.method.name();
        if let MethodSpec::L2tW(o) | MethodSpec::L2tWw(o) = &self.run.method {
            for (i, p) in o.standardize.iter().enumerate() {
                let i = i.to_string();
                files.push((key(&["method", name, "standardize", &i]), p.as_path()));
            }
        }
        files
    }

    /// A fingerprint of everything that shapes the run (checkpoints of another are refused):
    /// not the output folder or the loader threads, and never how a path is spelt. With an
    /// [`identity`](Self::identity) (a content key of every file the paths name) the paths
    /// are left out; without one each file enters by its content, so the same configuration
    /// read from another folder, through another relative path, or with its files moved, has
    /// the same fingerprint.
    pub fn fingerprint(&self) -> Result<String> {
        let mut c = self.clone();
        c.out = PathBuf::new();
        c.data.options.loader_threads = 0;
        let mut contents = Vec::new();
        if c.identity.is_none() {
            for (_, file) in self.inputs() {
                contents.push(fsx::blake3_file(file)?);
            }
        }
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
        let text = serde_json::to_string(&c).expect("configs serialise");
        let mut h = blake3::Hasher::new();
        h.update(text.as_bytes());
        for part in c.identity.iter().chain(&contents) {
            h.update(b"\0");
            h.update(part.as_bytes());
        }
        Ok(h.finalize().to_hex().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "data: {train: a, val: b, test: c, per-class: 5, loader-threads: 2}\n\
                        target: {arch: resnet8}\nout: o\noptim: {epochs: 3}\n";

    /// A folder with the split files `a`, `b`, `c` and `train.yaml` holding `text`.
    fn folder(text: &str) -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        for f in ["a", "b", "c"] {
            std::fs::write(d.path().join(f), f).unwrap();
        }
        let p = d.path().join("train.yaml");
        std::fs::write(&p, text).unwrap();
        (d, p)
    }

    fn error(text: &str) -> String {
        let (_d, p) = folder(text);
        TrainConfig::read(&p).unwrap_err().to_string()
    }

    #[test]
    fn the_fingerprint_ignores_the_loader_threads_and_how_paths_are_spelt() {
        let (d, p) = folder(BASE);
        let a = TrainConfig::read(&p).unwrap();
        assert_eq!((a.data.select.per_class, a.run.optim.epochs), (Some(5), 3));
        let fp = a.fingerprint().unwrap();
        let mut b = a.clone();
        b.data.options.loader_threads = 1;
        assert_eq!(fp, b.fingerprint().unwrap());
        b.data.select.per_class = Some(6);
        assert_ne!(fp, b.fingerprint().unwrap());
        // Another spelling of the same file: the same fingerprint; another content: another.
        let mut c = a.clone();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        c.data.train = d.path().join("sub/../a");
        assert_eq!(fp, c.fingerprint().unwrap());
        c.data.train = d.path().join("b");
        assert_ne!(fp, c.fingerprint().unwrap());
        // With an identity the paths are left out.
        let (mut e, mut f) = (a.clone(), a.clone());
        e.identity = Some("k".into());
        f.identity = Some("k".into());
        f.data.train = "/elsewhere/train.parquet".into();
        assert_eq!(e.fingerprint().unwrap(), f.fingerprint().unwrap());
        assert_ne!(fp, e.fingerprint().unwrap());
    }

    #[test]
    fn a_configuration_read_through_another_path_has_the_same_fingerprint() {
        let (d, p) = folder(BASE);
        std::fs::create_dir(d.path().join("sub")).unwrap();
        let direct = TrainConfig::read(&p).unwrap();
        let roundabout = TrainConfig::read(&d.path().join("sub/../train.yaml")).unwrap();
        assert_ne!(direct.data.train, roundabout.data.train);
        assert_eq!(
            direct.fingerprint().unwrap(),
            roundabout.fingerprint().unwrap()
        );
    }

    #[test]
    fn a_bad_value_is_reported_at_its_line_and_column() {
        let e = error(&BASE.replace("per-class: 5", "per-class: five"));
        assert!(
            e.contains("train.yaml:1:") && e.contains("`data.per-class`"),
            "{e}"
        );
        let e = error(&format!("{BASE}sed: 1\n"));
        assert!(e.contains("train.yaml:5:1:") && e.contains("`sed`"), "{e}");
    }

    #[test]
    fn an_unknown_key_gets_the_nearest_valid_one_at_every_level() {
        let e = error(&format!("{BASE}sed: 1\n"));
        assert!(e.contains("did you mean `seed`?"), "{e}");
        let e = error(&BASE.replace("per-class: 5", "per-clas: 5"));
        assert!(e.contains("did you mean `per-class`?"), "{e}");
        let e = error(&BASE.replace("epochs: 3", "epoch: 3"));
        assert!(e.contains("did you mean `epochs`?"), "{e}");
    }

    #[test]
    fn numbers_out_of_range_are_reported_at_their_key_with_the_range() {
        let e = error(&BASE.replace("epochs: 3", "epochs: 3, lr: -0.05"));
        assert!(
            e.contains("train.yaml:4:") && e.contains("`optim.lr`") && e.contains("> 0"),
            "{e}"
        );
        let e = error(&format!("{BASE}method: {{l2t-ww: {{meta-every: 0}}}}\n"));
        assert!(
            e.contains("train.yaml:5:") && e.contains("`method.l2t-ww.meta-every`"),
            "{e}"
        );
        let e = error(&BASE.replace("per-class: 5", "per-class: 0"));
        assert!(
            e.contains("`data.per-class`") && e.contains("at least 1"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_file_is_reported_at_its_key() {
        let e = error(&BASE.replace("test: c", "test: nothing.parquet"));
        assert!(
            e.contains("train.yaml:1:")
                && e.contains("`data.test`")
                && e.contains("nothing.parquet does not exist"),
            "{e}"
        );
        let e = error(&format!(
            "{BASE}sources: [{{checkpoint: gone.safetensors}}]\n"
        ));
        assert!(
            e.contains("train.yaml:5:") && e.contains("`sources.0.checkpoint`"),
            "{e}"
        );
    }

    #[test]
    fn the_key_lists_are_the_keys_of_the_type() {
        let (_d, p) = folder(BASE);
        let mut c = TrainConfig::read(&p).unwrap();
        c.data.select.classes = Some(vec![0]);
        c.data.batching.resize_to = Some(32);
        c.data.options.subset_seed = Some(1);
        let v = serde_json::to_value(&c).unwrap();
        let keys = |v: &serde_json::Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        let sorted = |l: &[&str]| {
            let mut k: Vec<String> = l.iter().map(|s| s.to_string()).collect();
            k.sort();
            k
        };
        assert_eq!(keys(&v), sorted(TOP_KEYS));
        assert_eq!(keys(&v["data"]), sorted(DATA_KEYS));
    }
}
