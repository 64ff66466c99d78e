//! Runs one training described by a `TrainConfig`: opens the Parquet splits, chooses the subsets,
//! builds the loaders, the target, the sources and the method, trains with the engine
//! (continuing from the run's checkpoint when there is one), and writes `summary.json`,
//! `metrics.parquet` and the final `target.safetensors` into the output folder.

use crate::data::{Augment, Loader, LoaderConfig, Store, Subset};
use crate::error::{Error, Result};
use crate::fsx;
use crate::models::{weights, Arch, Model};
use crate::transfer::engine::{Batch, BatchSource, Listener, RunData, Trainer};
use crate::transfer::methods::BuildContext;
use crate::transfer::metrics::write_metrics;
use crate::transfer::record::RunSummary;
use crate::transfer::train_config::{AugmentSpec, TrainConfig};
use std::collections::BTreeMap;
use std::sync::Arc;
use tch::{Device, Kind};

/// A data loader as the engine's batch source.
pub struct LoaderSource {
    loader: Loader,
    kind: Kind,
}

impl BatchSource for LoaderSource {
    fn batches(&self, epoch: usize) -> Box<dyn Iterator<Item = Result<Batch>> + '_> {
        let kind = self.kind;
        Box::new(self.loader.epoch(epoch as u64).map(move |b| {
            b.map(|b| Batch {
                x: b.x.to_kind(kind),
                y: b.y,
                idx: b.rows.iter().map(|&r| r as i64).collect(),
            })
        }))
    }
    fn num_samples(&self) -> usize {
        self.loader.num_samples()
    }
    fn num_batches(&self) -> usize {
        self.loader.len()
    }
    fn input_size(&self) -> i64 {
        self.loader.sample_shape().1 as i64
    }
}

/// The subset of `store` the configuration asks for: its classes, then `per_class` of each.
fn choose(store: &Store, cfg: &TrainConfig, per_class: Option<usize>) -> Result<Subset> {
    let seed = cfg.data.options.subset_seed.unwrap_or(cfg.run.seed);
    cfg.data.select.subset(store, per_class, seed)
}

fn loader(
    store: Arc<Store>,
    subset: &Subset,
    cfg: &TrainConfig,
    train: bool,
    device: Device,
    kind: Kind,
) -> Result<LoaderSource> {
    let augment = match (cfg.data.options.augment, train) {
        (AugmentSpec::Cifar32, true) => Augment::Cifar32,
        (AugmentSpec::Imagenet224, true) => Augment::Imagenet224Train,
        (AugmentSpec::Imagenet224, false) => Augment::Imagenet224Eval,
        _ => Augment::None,
    };
    let lc = LoaderConfig {
        batch: cfg.data.batching.batch,
        shuffle: train,
        augment,
        resize_to: cfg.data.batching.resize_to,
        to_rgb: true,
        normalize: true,
        seed: cfg.run.seed,
        device,
        threads: cfg.data.options.loader_threads,
        drop_last: false,
    };
    Ok(LoaderSource {
        loader: Loader::new(store, subset, lc)?,
        kind,
    })
}

/// Fails with a clear error when `model` cannot take `input`×`input` images (libtorch panics in
/// the forward pass otherwise, e.g. VGG9-bn's five poolings need at least 32×32).
fn check_input_size(
    model: &Model,
    name: &str,
    input: i64,
    device: Device,
    kind: Kind,
) -> Result<()> {
    let probe = tch::Tensor::zeros([2, 3, input, input], (kind, device));
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tch::no_grad(|| {
            let _ = model.net.forward_t(&probe, false);
        })
    }));
    std::panic::set_hook(hook);
    res.map_err(|_| {
        Error::Invalid(format!(
            "{name} cannot take {input}×{input} images; resize them first (`resize-to: 32` in the data settings)"
        ))
    })
}

/// Trains as `cfg` says on `device` in precision `kind`.
pub fn run(
    cfg: &TrainConfig,
    device: Device,
    kind: Kind,
    listener: &mut dyn Listener,
) -> Result<RunSummary> {
    let arch: Arch = cfg.target.arch.parse()?;
    cfg.check().map_err(|e| Error::Invalid(e.shown()))?;
    let open = |p: &std::path::Path| Store::open(p).map(Arc::new);
    let (train_store, val_store, test_store) = (
        open(&cfg.data.train)?,
        open(&cfg.data.val)?,
        open(&cfg.data.test)?,
    );
    let train_subset = choose(&train_store, cfg, cfg.data.select.per_class)?;
    let val_subset = choose(&val_store, cfg, None)?;
    let test_subset = choose(&test_store, cfg, None)?;
    let classes = cfg.data.select.count(train_store.classes.len()) as i64;
    let train = loader(train_store.clone(), &train_subset, cfg, true, device, kind)?;
    let train_eval = loader(train_store, &train_subset, cfg, false, device, kind)?;
    let val = loader(val_store, &val_subset, cfg, false, device, kind)?;
    let test = loader(test_store, &test_subset, cfg, false, device, kind)?;

    let sources = cfg
        .sources
        .iter()
        .map(|s| Model::from_checkpoint(&s.checkpoint, device, kind))
        .collect::<Result<Vec<_>>>()?;
    tch::manual_seed(cfg.run.seed as i64);
    let target = Model::new(arch, classes, device, kind)?;
    let input = train.input_size();
    let ctx = BuildContext {
        target: &target,
        sources: &sources,
        input,
        device,
        kind,
        momentum: cfg.run.optim.momentum,
    };
    check_input_size(&target, &cfg.target.arch, input, device, kind)?;
    for (s, c) in sources.iter().zip(&cfg.sources) {
        check_input_size(s, &c.checkpoint.display().to_string(), input, device, kind)?;
    }
    let mut method = cfg.run.method.build(&ctx)?;
    fsx::create_dir_all(&cfg.out)?;
    let mut trainer = Trainer {
        target: &target,
        sources: &sources,
        method: method.as_mut(),
        optim: cfg.run.optim,
        eval: cfg.run.eval,
        seed: cfg.run.seed,
        checkpoint: Some(cfg.out.join("checkpoint.safetensors")),
        fingerprint: cfg.fingerprint()?,
        stop_after: None,
    };
    let data = RunData {
        train: &train,
        val: &val,
        test: &test,
        train_eval: Some(&train_eval),
    };
    let summary = trainer.fit(data, listener)?;
    let meta = BTreeMap::from([
        ("arch".to_string(), arch.to_string()),
        ("num_classes".to_string(), classes.to_string()),
        ("method".to_string(), summary.method.clone()),
        ("seed".to_string(), cfg.run.seed.to_string()),
        ("test_acc".to_string(), format!("{:.4}", summary.test_acc)),
    ]);
    weights::save(&target.vs, &meta, &cfg.out.join("target.safetensors"))?;
    write_metrics(&cfg.out.join("metrics.parquet"), &summary)?;
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| Error::Invalid(e.to_string()))?;
    fsx::write_atomic(&cfg.out.join("summary.json"), &json)?;
    Ok(summary)
}
