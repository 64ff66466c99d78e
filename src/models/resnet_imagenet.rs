//! torchvision's ImageNet ResNet18 and ResNet34 with torchvision's parameter names (`conv1`,
//! `bn1`, `layer1..4.N` with `downsample.0/1`, `fc`), for the paper's 224×224 setting. Taps are
//! the outputs of `layer1` … `layer4`.

use super::basic_block::BasicBlock;
use super::layers::{bn, conv, linear};
use super::network::{Forward, Network, Tap, CONV3_S2};
use crate::error::{Error, Result};
use tch::{nn, Tensor};

/// An ImageNet-style ResNet built from BasicBlocks.
#[derive(Debug)]
pub struct ImageNetResNet {
    arch: String,
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    layers: Vec<Vec<BasicBlock>>,
    fc: nn::Linear,
    taps: Vec<Tap>,
    num_classes: i64,
}

/// Blocks per layer of the BasicBlock ImageNet ResNets.
pub fn layer_sizes(depth: usize) -> Result<[usize; 4]> {
    match depth {
        18 => Ok([2, 2, 2, 2]),
        34 => Ok([3, 4, 6, 3]),
        _ => Err(Error::Invalid(format!(
            "resnet{depth}: ImageNet ResNets available are 18 and 34"
        ))),
    }
}

impl ImageNetResNet {
    /// Builds `resnet{depth}` (18 or 34) with `num_classes` outputs under `p`.
    pub fn new(p: &nn::Path, depth: usize, num_classes: i64) -> Result<Self> {
        let sizes = layer_sizes(depth)?;
        let mut down = vec![(7, 2, 3), (3, 2, 1)];
        let (mut layers, mut taps, mut c_in) = (Vec::new(), Vec::new(), 64i64);
        for (l, &n) in sizes.iter().enumerate() {
            let c_out = 64i64 << l;
            let stride = if l == 0 { 1 } else { 2 };
            if stride == 2 {
                down.push(CONV3_S2);
            }
            let name = format!("layer{}", l + 1);
            let lp = p / name.as_str();
            let blocks = (0..n)
                .map(|i| {
                    let (ci, s) = if i == 0 { (c_in, stride) } else { (c_out, 1) };
                    BasicBlock::new(&lp / i, ci, c_out, s)
                })
                .collect();
            layers.push(blocks);
            taps.push(Tap {
                name,
                channels: c_out,
                downsampling: down.clone(),
            });
            c_in = c_out;
        }
        Ok(ImageNetResNet {
            arch: format!("resnet{depth}"),
            conv1: conv(p / "conv1", 3, 64, 7, 2, 3, false),
            bn1: bn(p / "bn1", 64),
            layers,
            fc: linear(p / "fc", 512, num_classes),
            taps,
            num_classes,
        })
    }
}

impl Network for ImageNetResNet {
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
        h = h.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        let mut features = Vec::with_capacity(4);
        for layer in &self.layers {
            for b in layer {
                h = h.apply_t(b, train);
            }
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
