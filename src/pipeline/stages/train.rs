//! `train`: one training run with the one engine — a source network on its data, or a target with
//! any method and its sources. Trains in the instance's work folder (so a killed run continues
//! from its last checkpoint) and commits `summary.json`, `metrics.parquet` and
//! `target.safetensors`.

use super::{params_of, typed, Ctx, External};
use crate::device::DeviceChoice;
use crate::error::{Error, Result};
use crate::models::Arch;
use crate::transfer::engine::{EvalConfig, Listener, OptimConfig};
use crate::transfer::methods::MethodSpec;
use crate::transfer::record::EpochRecord;
use crate::transfer::train::run as train_run;
use crate::transfer::train_config::{
    AugmentSpec, DataConfig, SourceConfig, TargetConfig, TrainConfig,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// Parameters of a `train` stage (besides its inputs `data` and `sources`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TrainParams {
    /// The network trained (`resnet20`, `vgg9-bn`, …).
    pub arch: String,
    /// The method and its options (default `scratch`).
    #[serde(default = "scratch")]
    pub method: MethodSpec,
    /// SGD settings and epochs.
    #[serde(default)]
    pub optim: OptimConfig,
    /// When the test split is evaluated.
    #[serde(default)]
    pub eval: EvalConfig,
    /// Seed of initialisation, batches and augmentation.
    #[serde(default)]
    pub seed: u64,
    /// Classes kept, relabelled 0.. in this order.
    #[serde(default)]
    pub classes: Option<Vec<i64>>,
    /// Training images per class.
    #[serde(default)]
    pub per_class: Option<usize>,
    /// Seed of the per-class choice (default: `seed`).
    #[serde(default)]
    pub subset_seed: Option<u64>,
    /// Batch size.
    #[serde(default = "batch")]
    pub batch: usize,
    /// Training augmentation.
    #[serde(default)]
    pub augment: AugmentSpec,
    /// Resize every image to this size first.
    #[serde(default)]
    pub resize_to: Option<usize>,
    /// `f32` (default) or `f64`.
    #[serde(default)]
    pub precision: Option<String>,
    /// Loader threads (0: the stage's thread budget); not part of the key.
    #[serde(default)]
    pub loader_threads: usize,
}

fn scratch() -> MethodSpec {
    MethodSpec::Scratch
}
fn batch() -> usize {
    64
}

/// The version of the L2T iteration's implementation. Its float32 roundings differ between
/// versions (the float64 results agree), so a cached L2T training is computed again when it
/// changes; other methods keep their entries. 2: look-ahead into replicas, forward mode.
/// 3: the batch-norm running statistics move a second time per iteration, as the official loop.
const L2T_IMPLEMENTATION: u32 = 3;

/// Key parts beyond the parameters: for `l2t-w`/`l2t-ww`, the iteration's implementation.
pub fn external(params: &Map<String, Value>) -> External {
    let method = match params.get("method") {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(m)) => m.keys().next().map_or("", String::as_str),
        _ => "",
    };
    let mut ext = External::default();
    if method.starts_with("l2t-") {
        ext.params
            .push(("implementation.l2t".into(), Value::from(L2T_IMPLEMENTATION)));
    }
    ext
}

pub fn check(params: &Map<String, Value>) -> Result<(), (Vec<String>, String)> {
    let p: TrainParams = typed(params)?;
    p.arch
        .parse::<Arch>()
        .map_err(|e| (vec!["arch".into()], e.to_string()))?;
    if let Some(s) = &p.precision {
        s.parse::<crate::device::Precision>()
            .map_err(|e| (vec!["precision".into()], e.to_string()))?;
    }
    if p.batch == 0 {
        return Err((vec!["batch".into()], "`batch` must be at least 1".into()));
    }
    if p.optim.epochs == 0 {
        return Err((
            vec!["optim".into(), "epochs".into()],
            "`epochs` must be at least 1".into(),
        ));
    }
    Ok(())
}

/// The checkpoint an upstream `train` or `import` instance committed.
pub fn checkpoint_of(kind: &str, dir: &std::path::Path) -> PathBuf {
    match kind {
        "import" => dir.join("model.safetensors"),
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
}

pub fn run(ctx: &mut Ctx) -> Result<Value> {
    let p: TrainParams = params_of(ctx.job)?;
    let data = ctx.job.input("data")?;
    let sources = ctx
        .job
        .inputs
        .get("sources")
        .map(|v| {
            v.iter()
                .map(|s| SourceConfig {
                    checkpoint: checkpoint_of(&s.kind, &s.dir),
                })
                .collect()
        })
        .unwrap_or_default();
    let cfg = TrainConfig {
        seed: p.seed,
        data: DataConfig {
            train: data.dir.join("train.parquet"),
            val: data.dir.join("val.parquet"),
            test: data.dir.join("test.parquet"),
            classes: p.classes.clone(),
            per_class: p.per_class,
            subset_seed: p.subset_seed,
            batch: p.batch,
            augment: p.augment,
            resize_to: p.resize_to,
            loader_threads: if p.loader_threads == 0 {
                ctx.job.threads.max(1)
            } else {
                p.loader_threads
            },
        },
        target: TargetConfig {
            arch: p.arch.clone(),
        },
        sources,
        method: p.method.clone(),
        optim: p.optim,
        eval: p.eval,
        out: ctx.work.to_path_buf(),
    };
    let device = ctx.job.device.parse::<DeviceChoice>()?.resolve()?;
    let precision: crate::device::Precision = p.precision.as_deref().unwrap_or("f32").parse()?;
    let mut listener = Progress {
        report: &mut *ctx.progress,
        epochs: p.optim.epochs,
        last: String::new(),
    };
    let summary = train_run(&cfg, device, precision.kind(), &mut listener)?;
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
        "seed": p.seed,
        "device": summary.device,
    }))
}

#[cfg(test)]
mod implementation_tests {
    use super::*;

    fn method(v: Value) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("method".into(), v);
        m
    }

    #[test]
    fn only_l2t_trainings_carry_the_iteration_version_in_their_key() {
        for m in [json!("l2t-ww"), json!({"l2t-w": {"T": 3}})] {
            let ext = external(&method(m.clone()));
            assert_eq!(
                ext.params,
                vec![("implementation.l2t".to_string(), json!(L2T_IMPLEMENTATION))],
                "{m}"
            );
        }
        for m in [json!("scratch"), json!({"fm": {"beta": 1.0}}), json!("at")] {
            assert!(external(&method(m.clone())).params.is_empty(), "{m}");
        }
    }
}
