//! The official CIFAR-style ResNet (depth 6n+2: 20, 32, 44, 56, 110) with the official parameter
//! names: `conv1` (with bias), `bn1`, then per stage a first block (`block1`, `block3`,
//! `block5`) and the rest (`blocks2.N`, `blocks4.N`, `blocks6.N`), global average pool, `fc`.
//! Every block output is a feature tap, in order.

use super::basic_block::BasicBlock;
use super::layers::{bn, conv, linear};
use super::network::{Forward, Network, Tap, CONV3_S2};
use crate::error::{Error, Result};
use tch::{nn, Tensor};

/// A CIFAR-style ResNet.
#[derive(Debug)]
pub struct CifarResNet {
    arch: String,
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    blocks: Vec<BasicBlock>,
    fc: nn::Linear,
    taps: Vec<Tap>,
    num_classes: i64,
}

/// Blocks per stage for a depth, or an error for a depth that is not 6n+2 with n ≥ 1.
pub fn blocks_per_stage(depth: usize) -> Result<usize> {
    if depth < 8 || (depth - 2) % 6 != 0 {
        return Err(Error::Invalid(format!(
            "resnet{depth}: a CIFAR ResNet's depth is 6n+2 (20, 32, 44, 56, 110)"
        )));
    }
    Ok((depth - 2) / 6)
}

impl CifarResNet {
    /// Builds `resnet{depth}` with `num_classes` outputs under `p`.
    pub fn new(p: &nn::Path, depth: usize, num_classes: i64) -> Result<Self> {
        let per_stage = blocks_per_stage(depth)?;
        let widths = [16i64, 32, 64];
        let mut blocks = Vec::new();
        let mut taps = Vec::new();
        let mut c_in = 16;
        let mut down = Vec::new();
        for (s, &c_out) in widths.iter().enumerate() {
            let stride = if s == 0 { 1 } else { 2 };
            if stride == 2 {
                down.push(CONV3_S2);
            }
            let first = format!("block{}", 2 * s + 1);
            blocks.push(BasicBlock::new(p / first.as_str(), c_in, c_out, stride));
            taps.push(Tap {
                name: first,
                channels: c_out,
                downsampling: down.clone(),
            });
            let rest = format!("blocks{}", 2 * s + 2);
            for i in 0..per_stage - 1 {
                let name = format!("{rest}.{i}");
                blocks.push(BasicBlock::new(p / rest.as_str() / i, c_out, c_out, 1));
                taps.push(Tap {
                    name,
                    channels: c_out,
                    downsampling: down.clone(),
                });
            }
            c_in = c_out;
        }
        Ok(CifarResNet {
            arch: format!("resnet{depth}"),
            conv1: conv(p / "conv1", 3, 16, 3, 1, 1, true),
            bn1: bn(p / "bn1", 16),
            blocks,
            fc: linear(p / "fc", 64, num_classes),
            taps,
            num_classes,
        })
    }
}

impl Network for CifarResNet {
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
        let mut features = Vec::with_capacity(self.blocks.len());
        for b in &self.blocks {
            h = h.apply_t(b, train);
            features.push(h.shallow_clone());
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
