//! The loader: batches of a [`Subset`] of a [`Store`] as tch tensors on a device. Each epoch's
//! order is a permutation drawn from (seed, epoch), and each sample's augmentation from its own
//! stream (seed, epoch, row), so batches are identical whatever the thread count. Images are
//! decoded and augmented in parallel on a rayon pool; a background thread prepares the next
//! batch while the current one is used.
use crate::data::augment::{geometry, tables, write_chw, Augment};
use crate::data::rng::stream;
use crate::data::store::Store;
use crate::data::subset::Subset;
use crate::error::{Error, Result};
use rand::seq::SliceRandom;
use rayon::prelude::*;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use tch::{Device, Tensor};

/// How the loader batches and transforms.
#[derive(Debug, Clone)]
pub struct LoaderConfig {
    /// Samples per batch.
    pub batch: usize,
    /// Shuffle each epoch (by seed and epoch).
    pub shuffle: bool,
    /// The augmentation.
    pub augment: Augment,
    /// Resize every image to this square size first (STL-10 and TinyImageNet to 32 for the
    /// 32×32 setting).
    pub resize_to: Option<usize>,
    /// Replicate grayscale to 3 channels.
    pub to_rgb: bool,
    /// Normalise with the ImageNet mean and std (else scale to [0, 1] only).
    pub normalize: bool,
    /// Seed of the order and the augmentation.
    pub seed: u64,
    /// Where the batches go.
    pub device: Device,
    /// Decode/augment threads (0 = rayon's global pool).
    pub threads: usize,
    /// Drop a last, smaller batch.
    pub drop_last: bool,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        LoaderConfig {
            batch: 128,
            shuffle: true,
            augment: Augment::Cifar32,
            resize_to: None,
            to_rgb: true,
            normalize: true,
            seed: 0,
            device: Device::Cpu,
            threads: 0,
            drop_last: false,
        }
    }
}

/// One batch: `x` (N, C, H, W) float32, `y` (N,) int64, and the store rows it came from.
#[derive(Debug)]
pub struct Batch {
    /// Images.
    pub x: Tensor,
    /// Labels (renumbered for class subsets).
    pub y: Tensor,
    /// Store rows, in batch order.
    pub rows: Vec<usize>,
}

struct Inner {
    store: Arc<Store>,
    rows: Vec<usize>,
    labels: Vec<i64>,
    cfg: LoaderConfig,
    shape: (usize, usize, usize),
    tables: [[f32; 256]; 3],
    pool: Option<rayon::ThreadPool>,
}

/// Iterates over a subset's batches, epoch by epoch.
pub struct Loader {
    inner: Arc<Inner>,
}

impl Loader {
    /// A loader over `subset`'s rows of `store`. Checks the rows and labels, and works out the
    /// output shape from the first image (all must agree, else set `resize_to`).
    pub fn new(store: Arc<Store>, subset: &Subset, cfg: LoaderConfig) -> Result<Loader> {
        if cfg.batch == 0 {
            return Err(Error::Invalid(
                "batch size 0: use a positive --batch".into(),
            ));
        }
        let mut labels = Vec::with_capacity(subset.indices.len());
        for &r in &subset.indices {
            let l = store.labels.get(r).ok_or_else(|| Error::Invalid(format!("subset row {r} is beyond the {} rows of {}; the subset belongs to another split", store.len(), store.path.display())))?;
            labels.push(subset.label(*l).ok_or_else(|| {
                Error::Invalid(format!(
                    "row {r} has label {l}, outside the subset's classes"
                ))
            })?);
        }
        let first = *subset
            .indices
            .first()
            .ok_or_else(|| Error::Invalid("the subset is empty".into()))?;
        let img = store.image(first)?;
        let g = geometry(
            img,
            cfg.augment,
            cfg.resize_to,
            cfg.to_rgb,
            &mut stream("shape", &[]),
        );
        let pool = match cfg.threads {
            0 => None,
            n => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .map_err(|e| Error::Invalid(format!("cannot start {n} loader threads: {e}")))?,
            ),
        };
        let shape = (g.channels, g.height, g.width);
        Ok(Loader {
            inner: Arc::new(Inner {
                store,
                rows: subset.indices.clone(),
                labels,
                tables: tables(cfg.normalize),
                cfg,
                shape,
                pool,
            }),
        })
    }

    /// Samples per epoch.
    pub fn num_samples(&self) -> usize {
        self.inner.rows.len()
    }

    /// Batches per epoch.
    pub fn len(&self) -> usize {
        let (n, b) = (self.inner.rows.len(), self.inner.cfg.batch);
        if self.inner.cfg.drop_last {
            n / b
        } else {
            n.div_ceil(b)
        }
    }

    /// Whether an epoch yields no batch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Per-sample output shape (C, H, W).
    pub fn sample_shape(&self) -> (usize, usize, usize) {
        self.inner.shape
    }

    /// The batches of epoch `epoch`, deterministic for (seed, epoch); the next batch is
    /// prepared in the background while the current one is used.
    pub fn epoch(&self, epoch: u64) -> EpochIter {
        let inner = self.inner.clone();
        let (tx, rx) = sync_channel(1);
        std::thread::spawn(move || {
            let mut order: Vec<usize> = (0..inner.rows.len()).collect();
            if inner.cfg.shuffle {
                order.shuffle(&mut stream("epoch", &[inner.cfg.seed, epoch]));
            }
            let b = inner.cfg.batch;
            let nb = if inner.cfg.drop_last {
                order.len() / b
            } else {
                order.len().div_ceil(b)
            };
            for k in 0..nb {
                let part = &order[k * b..((k + 1) * b).min(order.len())];
                let batch = match &inner.pool {
                    Some(p) => p.install(|| inner.make(part, epoch)),
                    None => inner.make(part, epoch),
                };
                let failed = batch.is_err();
                if tx.send(batch).is_err() || failed {
                    break;
                }
            }
        });
        EpochIter { rx }
    }
}

impl Inner {
    fn make(&self, part: &[usize], epoch: u64) -> Result<Batch> {
        let (c, h, w) = self.shape;
        let per = c * h * w;
        let mut x = vec![0f32; part.len() * per];
        let cfg = &self.cfg;
        x.par_chunks_mut(per).zip(part.par_iter()).try_for_each(|(out, &pos)| -> Result<()> {
            let row = self.rows[pos];
            let mut rng = stream("sample", &[cfg.seed, epoch, row as u64]);
            let img = geometry(self.store.image(row)?, cfg.augment, cfg.resize_to, cfg.to_rgb, &mut rng);
            if (img.channels, img.height, img.width) != self.shape {
                return Err(Error::Invalid(format!("row {row} of {} gives a {}×{}×{} image, not {c}×{h}×{w} like the first; set resize_to (and to_rgb)", self.store.path.display(), img.channels, img.height, img.width)));
            }
            write_chw(&img, cfg.augment, &self.tables, &mut rng, out);
            Ok(())
        })?;
        let y: Vec<i64> = part.iter().map(|&p| self.labels[p]).collect();
        let n = part.len() as i64;
        let x = Tensor::from_slice(&x)
            .view([n, c as i64, h as i64, w as i64])
            .to_device(cfg.device);
        let y = Tensor::from_slice(&y).to_device(cfg.device);
        Ok(Batch {
            x,
            y,
            rows: part.iter().map(|&p| self.rows[p]).collect(),
        })
    }
}

/// The batches of one epoch, in order.
pub struct EpochIter {
    rx: Receiver<Result<Batch>>,
}

impl Iterator for EpochIter {
    type Item = Result<Batch>;
    fn next(&mut self) -> Option<Result<Batch>> {
        self.rx.recv().ok()
    }
}
