//! `subset`: some classes of a dataset (relabelled 0.. in the order given) and N training images
//! per class (stratified, seeded, nested across N for one seed), written as Parquet splits like a
//! dataset's, so that every later stage reads exactly these images.

use super::{params_of, Ctx};
use crate::data::sample::Sample;
use crate::data::store::write_split;
use crate::data::{Store, Subset};
use crate::error::{Error, Result};
use serde::Deserialize;
use serde_json::{json, Value};

/// Parameters of a `subset` stage.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SubsetParams {
    /// Classes kept (original ids), relabelled 0.. in this order; all when absent.
    #[serde(default)]
    pub classes: Option<Vec<i64>>,
    /// Training images per class; all when absent.
    #[serde(default)]
    pub per_class: Option<usize>,
    /// Validation images per class kept (all when absent): evaluation runs every epoch, so a
    /// smaller validation split makes small studies affordable on a CPU.
    #[serde(default)]
    pub val_per_class: Option<usize>,
    /// Test images per class kept (all when absent).
    #[serde(default)]
    pub test_per_class: Option<usize>,
    /// Seed of the per-class choices.
    #[serde(default)]
    pub seed: u64,
}

pub fn run(ctx: &mut Ctx) -> Result<Value> {
    let p: SubsetParams = params_of(ctx.job)?;
    let data = ctx.job.input("data")?;
    let mut rows = serde_json::Map::new();
    for (i, split) in ["train", "val", "test"].iter().enumerate() {
        (ctx.progress)(i as u64, 3, split);
        let path = data.dir.join(format!("{split}.parquet"));
        let store = Store::open(&path)?;
        let mut subset = match &p.classes {
            Some(ids) => Subset::classes(&store.labels, ids)
                .map_err(|e| Error::bad_file(&path, e.to_string()))?,
            None => Subset::all(store.len(), path.display().to_string()),
        };
        let cap = match *split {
            "train" => p.per_class,
            "val" => p.val_per_class,
            _ => p.test_per_class,
        };
        if let Some(n) = cap {
            subset = subset.restrict_per_class(&store.labels, n, p.seed, &store.classes)?;
        }
        let classes: Vec<String> = match &p.classes {
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
        let prov = json!({"parent": data.instance, "parent_provenance": store.provenance, "classes": p.classes, "per_class": cap, "seed": p.seed});
        write_split(
            &ctx.out.join(format!("{split}.parquet")),
            &samples,
            &classes,
            &prov,
        )?;
        rows.insert(split.to_string(), json!(samples.len()));
    }
    (ctx.progress)(3, 3, "written");
    Ok(json!({"rows": rows}))
}
