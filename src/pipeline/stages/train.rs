//! `train`: one training run with the one engine — a source network on its data, or a target with
//! any method and its sources. Its parameters are the training configuration's parts minus what
//! the pipeline fills in (the split files, the source checkpoints, the output folder). Trains in
//! the instance's work folder (so a killed run continues from its last checkpoint, under any
//! thread count) and commits `summary.json`, `metrics.parquet` and `target.safetensors`.

use super::{field, resolve_path, Demand, External, FileParam, Inputs, StageContext, StageKind};
use crate::data::{Batching, Selection};
use crate::device::Precision;
use crate::error::{Error, Result};
use crate::models::Arch;
use crate::pipeline::kinds::{Kind, Merge, Param, Shape, DATA, NETS};
use crate::pipeline::stages::StageParams;
use crate::transfer::engine::Listener;
use crate::transfer::methods::MethodSpec;
use crate::transfer::record::EpochRecord;
use crate::transfer::train::run as train_run;
use crate::transfer::train_config::{
    DataConfig, DataOptions, RunSettings, SourceConfig, TargetConfig, TrainConfig,
};
use crate::yaml::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Parameters of a `train` stage (besides its inputs `data` and `sources`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TrainParams {
    /// The network trained.
    #[serde(flatten)]
    pub target: TargetConfig,
    /// Seed, method, optimisation, evaluation.
    #[serde(flatten)]
    pub run: RunSettings,
    /// Classes and training images per class of the data.
    #[serde(flatten)]
    pub select: Selection,
    /// Batch size and resize.
    #[serde(flatten)]
    pub batching: Batching,
    /// Subset seed, augmentation, loader threads.
    #[serde(flatten)]
    pub data: DataOptions,
    /// `f32` or `f64`; the run's `--precision` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,
}

/// The version of the L2T iteration's implementation. Its float32 roundings differ between
/// versions (the float64 results agree), so a cached L2T training is computed again when it
/// changes; other methods keep their entries. 2: look-ahead into replicas, forward mode.
/// 3: the batch-norm running statistics move a second time per iteration, as the official loop.
const L2T_IMPLEMENTATION: u32 = 3;

/// The `train` kind.
pub struct TrainStage;

impl StageKind for TrainStage {
    type Params = TrainParams;
    const PARAMS: &'static [Param] = &[
        Param::input("data", Shape::Input, DATA),
        Param::input("sources", Shape::InputList, NETS),
        Param::new("arch", Shape::Scalar),
        Param::new("method", Shape::Value).merged(Merge::Variant),
        Param::new("optim", Shape::Value).merged(Merge::Fields),
        Param::new("eval", Shape::Value).merged(Merge::Fields),
        Param::new("seed", Shape::Scalar),
        Param::new("classes", Shape::List),
        Param::new("per-class", Shape::Scalar),
        Param::new("subset-seed", Shape::Scalar),
        Param::new("batch", Shape::Scalar),
        Param::new("augment", Shape::Scalar),
        Param::new("resize-to", Shape::Scalar),
        Param::new("precision", Shape::Scalar).unkeyed(),
        Param::new("loader-threads", Shape::Scalar).unkeyed(),
    ];
    const VERSION: u32 = 2;
    const VERSION_NOTE: Option<&'static str> = Some(
        "trainings are recomputed: the default `cosine` schedule is now the paper's \
         (epoch e at lr·(1 + cos(πe/E))/2, never zero; the old one is `cosine-shifted`), \
         L2T-ww leaves the batch-norm statistics as the official loop does, and epochs count \
         from 1 in summary.json and metrics.parquet",
    );
    const USES_DEVICE: bool = true;

    fn check(p: &TrainParams) -> Result<(), FieldError> {
        p.target
            .arch
            .parse::<Arch>()
            .map_err(|e| FieldError::at(&["arch"], e.to_string()))?;
        p.select.check()?;
        p.batching.check()?;
        p.run.check()
    }

    fn resolve(p: &mut TrainParams, base: &Path) -> External {
        let mut ext = External::default();
        let name = p.run.method.name();
        if name.starts_with("l2t-") {
            ext.params
                .push(("implementation.l2t".into(), Value::from(L2T_IMPLEMENTATION)));
        }
        for (i, path) in p.run.method.paths_mut().into_iter().enumerate() {
            *path = resolve_path(path, base);
            ext.files.push(FileParam {
                name: format!("standardize.{i}"),
                param: vec!["method".into(), name.into(), "standardize".into()],
                path: path.clone(),
            });
        }
        ext
    }

    fn precision(p: &TrainParams, run: Precision) -> Option<Precision> {
        Some(p.precision.unwrap_or(run))
    }

    fn check_inputs(p: &TrainParams, inputs: &Inputs) -> Result<(), FieldError> {
        if let Some(n) = inputs.of("data").first().and_then(|d| d.classes) {
            p.select.check_classes(n).map_err(field)?;
        }
        let sources = inputs.of("sources");
        let method = &p.run.method;
        if method.needs_source() && sources.is_empty() {
            return Err(FieldError::at(
                &["method"],
                format!(
                    "method `{}` needs at least one source (`sources:`)",
                    method.name()
                ),
            ));
        }
        if let MethodSpec::L2tW(o) | MethodSpec::L2tWw(o) = method {
            let n = o.standardize.len();
            if n > 0 && n != sources.len() {
                return Err(FieldError::at(
                    &["method", method.name(), "standardize"],
                    format!(
                        "names {n} statistics file(s) for {} source(s); give one per source, \
                         in the order of `sources`",
                        sources.len()
                    ),
                ));
            }
        }
        if let MethodSpec::Finetune = method {
            if let Some(StageParams::Train(s)) = sources.first().map(|s| s.params) {
                if s.target.arch != p.target.arch {
                    return Err(FieldError::at(
                        &["method"],
                        format!(
                            "finetune needs the source's architecture: the source `{}` is a {}, \
                             the target a {}",
                            sources[0].name, s.target.arch, p.target.arch
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn demands(p: &TrainParams) -> Vec<Demand> {
        ["train", "val", "test"]
            .into_iter()
            .map(|split| Demand {
                split,
                select: p.select.clone(),
                per_class: p.select.per_class.filter(|_| split == "train"),
                param: "per-class",
            })
            .collect()
    }

    fn run(p: &TrainParams, ctx: &mut StageContext) -> Result<Value> {
        let exec = ctx.exec;
        let data = ctx.input("data")?;
        let sources = ctx
            .inputs_of("sources")
            .iter()
            .map(|s| SourceConfig {
                checkpoint: checkpoint_of(s.kind, &s.dir),
            })
            .collect();
        let mut options = p.data;
        if options.loader_threads == 0 {
            options.loader_threads = exec.threads.max(1);
        }
        let cfg = TrainConfig {
            run: p.run.clone(),
            data: DataConfig {
                train: data.dir.join("train.parquet"),
                val: data.dir.join("val.parquet"),
                test: data.dir.join("test.parquet"),
                select: p.select.clone(),
                batching: p.batching,
                options,
            },
            target: p.target.clone(),
            sources,
            out: ctx.work.to_path_buf(),
            identity: Some(ctx.key.to_string()),
        };
        let precision = p.precision.unwrap_or(exec.precision);
        let mut listener = Progress {
            report: &mut *ctx.progress,
            epochs: p.run.optim.epochs,
            last: String::new(),
        };
        let summary = train_run(&cfg, exec.device, precision.kind(), &mut listener)?;
        for line in summary.lambda_lines() {
            println!("{line}");
        }
        for f in ["summary.json", "metrics.parquet", "target.safetensors"] {
            let (from, to) = (ctx.work.join(f), ctx.out.join(f));
            std::fs::copy(&from, &to).map_err(|e| Error::io(&to, e))?;
        }
        let seconds: f64 = summary.epochs.iter().map(|e| e.seconds).sum();
        Ok(json!({
            "test_acc": summary.test_acc,
            "best_val_acc": summary.best_val_acc,
            "best_epoch": summary.best_epoch,
            "final_test_acc": summary.final_test_acc,
            "train_seconds": seconds,
            "seed": p.run.seed,
            "device": summary.device,
            "precision": precision,
        }))
    }
}

/// The checkpoint an upstream `train` or `import` instance committed.
pub fn checkpoint_of(kind: Kind, dir: &Path) -> PathBuf {
    match kind {
        Kind::Import => dir.join("model.safetensors"),
        _ => dir.join("target.safetensors"),
    }
}

struct Progress<'a> {
    report: &'a mut dyn FnMut(u64, u64, &str),
    epochs: usize,
    last: String,
}

impl Listener for Progress<'_> {
    fn batch(&mut self, epoch: usize, iteration: usize, of: usize, loss: f64, acc: f64) {
        let done = (epoch * of + iteration + 1) as u64;
        let total = (self.epochs * of) as u64;
        let msg = format!(
            "epoch {}/{} loss {loss:.3} acc {acc:.1}%{}",
            epoch + 1,
            self.epochs,
            self.last
        );
        (self.report)(done, total, &msg);
    }
    fn epoch(&mut self, r: &EpochRecord, _of: usize) {
        self.last = format!(" | val {:.1}%", r.val_acc);
        println!("{}", r.line(self.epochs));
    }
    fn resumed(&mut self, done: usize, of: usize) {
        println!("{}", crate::transfer::engine::resumed_line(done, of));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::typed;

    fn params(v: Value) -> TrainParams {
        let mut v = v;
        v["arch"] = json!("resnet8");
        typed(&v).unwrap()
    }

    #[test]
    fn only_l2t_trainings_carry_the_iteration_version_in_their_key() {
        for m in [json!("l2t-ww"), json!({"l2t-w": {"T": 3}})] {
            let ext = TrainStage::resolve(&mut params(json!({"method": m})), Path::new("/"));
            assert_eq!(
                ext.params,
                vec![("implementation.l2t".to_string(), json!(L2T_IMPLEMENTATION))],
                "{m}"
            );
        }
        for m in [json!("scratch"), json!({"fm": {"beta": 1.0}}), json!("at")] {
            let ext = TrainStage::resolve(&mut params(json!({"method": m})), Path::new("/"));
            assert!(ext.params.is_empty(), "{m}");
        }
    }

    #[test]
    fn a_relative_standardize_path_is_taken_from_the_pipeline_folder_and_is_a_file() {
        let mut p = params(json!({"method": {"l2t-ww": {"standardize": "s/channels.parquet"}}}));
        let ext = TrainStage::resolve(&mut p, Path::new("/project/pipelines"));
        let want = PathBuf::from("/project/pipelines/s/channels.parquet");
        assert_eq!(ext.files[0].path, want);
        assert_eq!(ext.files[0].param, ["method", "l2t-ww", "standardize"]);
        let MethodSpec::L2tWw(o) = &p.run.method else {
            panic!("{:?}", p.run.method)
        };
        assert_eq!(o.standardize, [want]);
    }

    #[test]
    fn every_number_is_checked_with_the_path_of_its_parameter() {
        let cases = [
            (
                json!({"method": {"l2t-ww": {"meta-every": 0}}}),
                "method.l2t-ww.meta-every",
            ),
            (
                json!({"method": {"l2t-ww": {"meta-lr": -0.1}}}),
                "method.l2t-ww.meta-lr",
            ),
            (json!({"method": {"l2t-w": {"T": 0}}}), "method.l2t-w.T"),
            (json!({"optim": {"lr": -0.05}}), "optim.lr"),
            (json!({"optim": {"epochs": 0}}), "optim.epochs"),
            (json!({"per-class": 0}), "per-class"),
            (json!({"batch": 0}), "batch"),
            (json!({"resize-to": 0}), "resize-to"),
            (json!({"classes": []}), "classes"),
        ];
        for (v, path) in cases {
            let e = TrainStage::check(&params(v.clone())).unwrap_err();
            assert_eq!(e.path.join("."), path, "{v}");
        }
        assert!(TrainStage::check(&params(json!({"method": "l2t-ww"}))).is_ok());
    }

    #[test]
    fn nesterov_with_l2t_is_refused_before_training() {
        let p = params(json!({"method": "l2t-ww", "optim": {"nesterov": true}}));
        let e = TrainStage::check(&p).unwrap_err();
        assert_eq!(e.path, ["optim", "nesterov"]);
        let p = params(json!({"method": "fm", "optim": {"nesterov": true}}));
        assert!(TrainStage::check(&p).is_ok());
    }
}
