//! The residual network both ResNet families share: a stem (conv, BN, relu, and for ImageNet a
//! 3×3 max-pool), a sequence of BasicBlocks with a feature tap after chosen blocks, a global
//! average pool and a linear classifier. The families differ only in how they name and lay out
//! their blocks (see `resnet_cifar` and `resnet_imagenet`).

use super::basic_block::BasicBlock;
use super::network::{Forward, Network, Tap};
use tch::{nn, Tensor};

/// A ResNet of BasicBlocks.
#[derive(Debug)]
pub struct ResNet {
    pub(crate) arch: String,
    pub(crate) conv1: nn::Conv2D,
    pub(crate) bn1: nn::BatchNorm,
    /// 3×3 stride-2 max-pool after the stem (ImageNet).
    pub(crate) stem_pool: bool,
    pub(crate) blocks: Vec<BasicBlock>,
    /// For each tap, the index of the block whose output it is.
    pub(crate) tap_after: Vec<usize>,
    pub(crate) taps: Vec<Tap>,
    pub(crate) fc: nn::Linear,
    pub(crate) num_classes: i64,
}

impl Network for ResNet {
    fn arch(&self) -> &str {
        &self.arch
    }
    fn taps(&self) -> &[Tap] {
        &self.taps
    }
    fn num_classes(&self) -> i64 {
        self.num_classes
    }
    fn forward_t(&self, x: &Tensor, train: bool) -> Forward {
        let mut h = x.apply(&self.conv1).apply_t(&self.bn1, train).relu();
        if self.stem_pool {
            h = h.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        }
        let mut features = Vec::with_capacity(self.tap_after.len());
        let mut next_tap = self.tap_after.iter().peekable();
        for (i, b) in self.blocks.iter().enumerate() {
            h = h.apply_t(b, train);
            if next_tap.next_if_eq(&&i).is_some() {
                features.push(h.shallow_clone());
            }
        }
        let pooled = h.adaptive_avg_pool2d([1, 1]).flatten(1, -1);
        let logits = pooled.apply(&self.fc);
        Forward {
            logits,
            features,
            pooled,
        }
    }
}
