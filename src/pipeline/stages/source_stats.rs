//! `source-stats`: a source network's pooled features on a dataset or subset split, each
//! channel's mean and std, and LogME per layer, through
//! [`crate::transfer::stats::compute_source_stats`], in the run's precision (`--precision`).
//! The images are those of the split named by `split` (default `train`), chosen as a training
//! stage chooses them.

use super::{checkpoint_of, field, Demand, Inputs, StageContext, StageKind};
use crate::device::Precision;
use crate::error::Result;
use crate::pipeline::kinds::{Param, Shape, DATA, NETS};
use crate::transfer::stats::{compute_source_stats, SourceStatsSpec};
use crate::yaml::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A split of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Split {
    /// The training split.
    #[default]
    Train,
    /// The validation split.
    Val,
    /// The test split.
    Test,
}

impl Split {
    fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }
}

/// Parameters of a `source-stats` stage (besides its inputs `source` and `data`): the split,
/// and the statistics' specification minus what the pipeline fills in (the checkpoint, the
/// split's file, the output folder). Unknown names are refused by the parameter table (serde
/// cannot refuse them through a struct that itself flattens others).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SourceStatsParams {
    /// The split described.
    #[serde(default)]
    pub split: Split,
    /// Classes and images per class, batching, seed, normalisation, crop, taps.
    #[serde(flatten)]
    pub spec: SourceStatsSpec,
}

/// The `source-stats` kind.
pub struct SourceStatsStage;

impl StageKind for SourceStatsStage {
    type Params = SourceStatsParams;
    const PARAMS: &'static [Param] = &[
        Param::input("source", Shape::Input, NETS),
        Param::input("data", Shape::Input, DATA),
        Param::new("split", Shape::Scalar),
        Param::new("classes", Shape::List),
        Param::new("per-class", Shape::Scalar),
        Param::new("seed", Shape::Scalar),
        Param::new("batch", Shape::Scalar),
        Param::new("resize-to", Shape::Scalar),
        Param::new("normalize", Shape::Scalar),
        Param::new("crop", Shape::Scalar),
        Param::new("taps", Shape::List),
    ];
    const USES_DEVICE: bool = true;

    fn check(p: &SourceStatsParams) -> Result<(), FieldError> {
        p.spec.select.check()?;
        p.spec.batching.check()?;
        if p.spec.options.taps.as_ref().is_some_and(Vec::is_empty) {
            return Err(FieldError::at(
                &["taps"],
                "lists no tap (allowed: one or more tap names; leave it out for every tap)",
            ));
        }
        Ok(())
    }

    fn precision(_: &SourceStatsParams, run: Precision) -> Option<Precision> {
        Some(run)
    }

    fn check_inputs(p: &SourceStatsParams, inputs: &Inputs) -> Result<(), FieldError> {
        match inputs.of("data").first().and_then(|d| d.classes) {
            Some(n) => p.spec.select.check_classes(n).map_err(field),
            None => Ok(()),
        }
    }

    fn demands(p: &SourceStatsParams) -> Vec<Demand> {
        vec![Demand {
            split: p.split.name(),
            select: p.spec.select.clone(),
            per_class: p.spec.select.per_class,
            param: "per-class",
        }]
    }

    fn run(p: &SourceStatsParams, ctx: &mut StageContext) -> Result<Value> {
        let source = ctx.input("source")?;
        let data = ctx.input("data")?;
        let spec = SourceStatsSpec {
            checkpoint: checkpoint_of(source.kind, &source.dir),
            data: data.dir.join(format!("{}.parquet", p.split.name())),
            out: ctx.out.to_path_buf(),
            ..p.spec.clone()
        };
        let precision = ctx.exec.precision;
        (ctx.progress)(0, 1, "features");
        let stats = compute_source_stats(&spec, ctx.exec.device, precision.kind())?;
        (ctx.progress)(1, 1, "written");
        let ranking: Vec<Value> = stats
            .ranking()
            .iter()
            .map(|l| json!({"layer": l.layer, "logme": l.logme}))
            .collect();
        Ok(json!({"logme": ranking, "precision": precision}))
    }
}
