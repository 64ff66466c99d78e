//! What the engine trains and evaluates on: batches with their sample indices, produced per
//! epoch by a `BatchSource`. `TensorBatches` serves in-memory tensors (tests, benchmarks,
//! synthetic data) with a seeded shuffle; the data loader plugs in through the same trait.

use crate::error::Result;
use tch::{Device, Kind, Tensor};

/// One batch: inputs (N, C, H, W), labels (N,) int64, and each sample's index in its dataset.
pub struct Batch {
    /// Inputs.
    pub x: Tensor,
    /// Class labels.
    pub y: Tensor,
    /// Dataset indices of the samples (for per-sample records such as LwF's soft targets).
    pub idx: Vec<i64>,
}

/// A source of batches, epoch by epoch; the same epoch always gives the same batches.
pub trait BatchSource {
    /// The batches of `epoch`.
    fn batches(&self, epoch: usize) -> Box<dyn Iterator<Item = Result<Batch>> + '_>;
    /// Number of samples per epoch.
    fn num_samples(&self) -> usize;
    /// Number of batches per epoch.
    fn num_batches(&self) -> usize;
    /// Spatial size of the inputs (height = width).
    fn input_size(&self) -> i64;
}

/// In-memory tensors served in batches, shuffled per epoch from a seed when asked.
pub struct TensorBatches {
    x: Tensor,
    y: Tensor,
    batch: usize,
    shuffle: Option<u64>,
    drop_last: bool,
    device: Device,
    kind: Kind,
}

impl TensorBatches {
    /// Batches of `batch` samples of (`x`, `y`), in order.
    pub fn new(x: Tensor, y: Tensor, batch: usize) -> Self {
        TensorBatches {
            x,
            y,
            batch: batch.max(1),
            shuffle: None,
            drop_last: false,
            device: Device::Cpu,
            kind: Kind::Float,
        }
    }

    /// Shuffles each epoch with a permutation derived from `seed` and the epoch number.
    pub fn shuffled(mut self, seed: u64) -> Self {
        self.shuffle = Some(seed);
        self
    }

    /// Drops the last incomplete batch (training).
    pub fn drop_last(mut self, yes: bool) -> Self {
        self.drop_last = yes;
        self
    }

    /// Serves the inputs on `device` in precision `kind`.
    pub fn on(mut self, device: Device, kind: Kind) -> Self {
        self.device = device;
        self.kind = kind;
        self
    }

    fn order(&self, epoch: usize) -> Vec<i64> {
        let n = self.num_samples();
        let mut idx: Vec<i64> = (0..n as i64).collect();
        if let Some(seed) = self.shuffle {
            // A Fisher–Yates shuffle driven by splitmix64 over (seed, epoch): independent of
            // libtorch's global generator and of thread counts.
            let mut state = seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            for i in (1..n).rev() {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                idx.swap(i, (z % (i as u64 + 1)) as usize);
            }
        }
        idx
    }
}

impl BatchSource for TensorBatches {
    fn batches(&self, epoch: usize) -> Box<dyn Iterator<Item = Result<Batch>> + '_> {
        let order = self.order(epoch);
        let chunks: Vec<Vec<i64>> = order
            .chunks(self.batch)
            .filter(|c| !self.drop_last || c.len() == self.batch)
            .map(<[i64]>::to_vec)
            .collect();
        Box::new(chunks.into_iter().map(move |idx| {
            let t = Tensor::from_slice(&idx);
            Ok(Batch {
                x: self
                    .x
                    .index_select(0, &t)
                    .to_device(self.device)
                    .to_kind(self.kind),
                y: self
                    .y
                    .index_select(0, &t)
                    .to_device(self.device)
                    .to_kind(Kind::Int64),
                idx,
            })
        }))
    }

    fn num_samples(&self) -> usize {
        self.x.size()[0] as usize
    }

    fn num_batches(&self) -> usize {
        let n = self.num_samples();
        if self.drop_last {
            n / self.batch
        } else {
            n.div_ceil(self.batch)
        }
    }

    fn input_size(&self) -> i64 {
        self.x.size()[2]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seeded_shuffle_is_a_reproducible_permutation_that_changes_per_epoch() {
        let x = Tensor::arange(10, (Kind::Float, Device::Cpu)).view([10, 1, 1, 1]);
        let y = Tensor::arange(10, (Kind::Int64, Device::Cpu));
        let b = TensorBatches::new(x, y, 4).shuffled(3);
        let order = |e| {
            b.batches(e)
                .flat_map(|r| r.unwrap().idx)
                .collect::<Vec<_>>()
        };
        let (e0, e1) = (order(0), order(1));
        assert_eq!(e0, order(0));
        assert_ne!(e0, e1);
        let mut sorted = e0.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert_eq!(b.num_batches(), 3);
    }
}
