//! torchvision's ImageNet ResNet18 and ResNet34 with torchvision's parameter names (`conv1`,
//! `bn1`, `layer1..4.N` with `downsample.0/1`, `fc`), for the paper's 224×224 setting. Taps are
//! the outputs of `layer1` … `layer4`.

use super::basic_block::BasicBlock;
use super::layers::{bn, conv, linear};
use super::network::{Tap, CONV3_S2};
use super::resnet::ResNet;
use crate::error::{Error, Result};
use tch::nn;

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

/// Builds the ImageNet `resnet{depth}` (18 or 34) with `num_classes` outputs under `p`.
pub fn imagenet_resnet(p: &nn::Path, depth: usize, num_classes: i64) -> Result<ResNet> {
    let sizes = layer_sizes(depth)?;
    let mut down = vec![(7, 2, 3), (3, 2, 1)];
    let (mut blocks, mut taps, mut tap_after, mut c_in) =
        (Vec::new(), Vec::new(), Vec::new(), 64i64);
    for (l, &n) in sizes.iter().enumerate() {
        let c_out = 64i64 << l;
        if l > 0 {
            down.push(CONV3_S2);
        }
        let name = format!("layer{}", l + 1);
        let lp = p / name.as_str();
        for i in 0..n {
            let (ci, stride) = if i == 0 {
                (c_in, if l == 0 { 1 } else { 2 })
            } else {
                (c_out, 1)
            };
            blocks.push(BasicBlock::new(&lp / i, ci, c_out, stride));
        }
        tap_after.push(blocks.len() - 1);
        taps.push(Tap::new(name, c_out, down.clone()));
        c_in = c_out;
    }
    Ok(ResNet {
        arch: format!("resnet{depth}"),
        conv1: conv(p / "conv1", 3, 64, 7, 2, 3, false),
        bn1: bn(p / "bn1", 64),
        stem_pool: true,
        blocks,
        tap_after,
        taps,
        fc: linear(p / "fc", 512, num_classes),
        num_classes,
    })
}
