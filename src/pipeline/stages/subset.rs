//! `subset`: some classes of a dataset (relabelled 0.. in the order given) and N training images
//! per class (stratified, seeded, nested across N for one seed), written as Parquet splits like a
//! dataset's, so that every later stage reads exactly these images.

use super::dataset::split_counts;
use super::{field, Demand, Inputs, StageContext, StageKind};
use crate::data::sample::Sample;
use crate::data::store::write_split;
use crate::data::{Selection, Store};
use crate::error::Result;
use crate::pipeline::kinds::{Param, Shape, DATA};
use crate::yaml::bounds::at_least_if;
use crate::yaml::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Parameters of a `subset` stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SubsetParams {
    /// The classes and the training images per class.
    #[serde(flatten)]
    pub select: Selection,
    /// Validation images per class kept (all when absent): evaluation runs every epoch, so a
    /// smaller validation split makes small studies affordable on a CPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_per_class: Option<usize>,
    /// Test images per class kept (all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_per_class: Option<usize>,
    /// Seed of the per-class choices.
    #[serde(default)]
    pub seed: u64,
}

/// The `subset` kind.
pub struct SubsetStage;

fn data_classes(inputs: &Inputs) -> Option<usize> {
    inputs.of("data").first().and_then(|i| i.classes)
}

impl StageKind for SubsetStage {
    type Params = SubsetParams;
    const PARAMS: &'static [Param] = &[
        Param::input("data", Shape::Input, DATA),
        Param::new("classes", Shape::List),
        Param::new("per-class", Shape::Scalar),
        Param::new("val-per-class", Shape::Scalar),
        Param::new("test-per-class", Shape::Scalar),
        Param::new("seed", Shape::Scalar),
    ];

    fn check(p: &SubsetParams) -> Result<(), FieldError> {
        p.select.check()?;
        at_least_if("val-per-class", p.val_per_class, 1)?;
        at_least_if("test-per-class", p.test_per_class, 1)
    }

    fn check_inputs(p: &SubsetParams, inputs: &Inputs) -> Result<(), FieldError> {
        match data_classes(inputs) {
            Some(n) => p.select.check_classes(n).map_err(field),
            None => Ok(()),
        }
    }

    fn classes(p: &SubsetParams, inputs: &Inputs) -> Option<usize> {
        match &p.select.classes {
            Some(c) => Some(c.len()),
            None => data_classes(inputs),
        }
    }

    fn demands(p: &SubsetParams) -> Vec<Demand> {
        [
            ("train", p.select.per_class, "per-class"),
            ("val", p.val_per_class, "val-per-class"),
            ("test", p.test_per_class, "test-per-class"),
        ]
        .into_iter()
        .map(|(split, per_class, param)| Demand {
            split,
            select: p.select.clone(),
            per_class,
            param,
        })
        .collect()
    }

    fn run(p: &SubsetParams, ctx: &mut StageContext) -> Result<Value> {
        let data = ctx.input("data")?;
        let mut rows = serde_json::Map::new();
        for (i, split) in ["train", "val", "test"].iter().enumerate() {
            (ctx.progress)(i as u64, 3, split);
            let path = data.dir.join(format!("{split}.parquet"));
            let store = Store::open(&path)?;
            let cap = match *split {
                "train" => p.select.per_class,
                "val" => p.val_per_class,
                _ => p.test_per_class,
            };
            let subset = p.select.subset(&store, cap, p.seed)?;
            let classes: Vec<String> = match &p.select.classes {
                Some(ids) => ids
                    .iter()
                    .map(|&c| {
                        store
                            .classes
                            .get(c as usize)
                            .cloned()
                            .unwrap_or_else(|| c.to_string())
                    })
                    .collect(),
                None => store.classes.clone(),
            };
            let samples: Vec<Sample> = subset
                .indices
                .iter()
                .map(|&r| {
                    let (bytes, encoding) = store.raw(r);
                    let (height, width, channels) = store.shape(r);
                    Sample {
                        index: store.index[r],
                        label: subset.label(store.labels[r]).unwrap_or(store.labels[r]),
                        height,
                        width,
                        channels,
                        encoding,
                        bytes: bytes.to_vec(),
                    }
                })
                .collect();
            let prov = json!({"parent": data.instance, "parent_provenance": store.provenance, "classes": p.select.classes, "per_class": cap, "seed": p.seed});
            write_split(
                &ctx.out.join(format!("{split}.parquet")),
                &samples,
                &classes,
                &prov,
            )?;
            rows.insert(split.to_string(), json!(samples.len()));
        }
        (ctx.progress)(3, 3, "written");
        let (names, counts) = split_counts(ctx.out)?;
        Ok(json!({"rows": rows, "class_names": names, "counts": counts}))
    }
}
