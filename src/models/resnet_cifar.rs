//! The official CIFAR-style ResNet (depth 6n+2: 20, 32, 44, 56, 110) with the official parameter
//! names: `conv1` (with bias), `bn1`, then per stage a first block (`block1`, `block3`,
//! `block5`) and the rest (`blocks2.N`, `blocks4.N`, `blocks6.N`), global average pool, `fc`.
//! Every block output is a feature tap, in order.

use super::basic_block::BasicBlock;
use super::layers::{bn, conv, linear};
use super::network::{Tap, CONV3_S2};
use super::resnet::ResNet;
use crate::error::{Error, Result};
use tch::nn;

/// Blocks per stage for a depth, or an error for a depth that is not 6n+2 with n ≥ 1.
pub fn blocks_per_stage(depth: usize) -> Result<usize> {
    if depth < 8 || !(depth - 2).is_multiple_of(6) {
        return Err(Error::Invalid(format!(
            "resnet{depth}: a CIFAR ResNet's depth is 6n+2 (20, 32, 44, 56, 110)"
        )));
    }
    Ok((depth - 2) / 6)
}

/// Builds the CIFAR-style `resnet{depth}` with `num_classes` outputs under `p`.
pub fn cifar_resnet(p: &nn::Path, depth: usize, num_classes: i64) -> Result<ResNet> {
    let per_stage = blocks_per_stage(depth)?;
    let (mut blocks, mut taps, mut c_in, mut down) = (Vec::new(), Vec::new(), 16i64, Vec::new());
    for (s, c_out) in [16i64, 32, 64].into_iter().enumerate() {
        if s > 0 {
            down.push(CONV3_S2);
        }
        let first = format!("block{}", 2 * s + 1);
        blocks.push(BasicBlock::new(
            p / first.as_str(),
            c_in,
            c_out,
            if s == 0 { 1 } else { 2 },
        ));
        taps.push(Tap::new(first, c_out, down.clone()));
        let rest = format!("blocks{}", 2 * s + 2);
        for i in 0..per_stage - 1 {
            blocks.push(BasicBlock::new(p / rest.as_str() / i, c_out, c_out, 1));
            taps.push(Tap::new(format!("{rest}.{i}"), c_out, down.clone()));
        }
        c_in = c_out;
    }
    Ok(ResNet {
        arch: format!("resnet{depth}"),
        conv1: conv(p / "conv1", 3, 16, 3, 1, 1, true),
        bn1: bn(p / "bn1", 16),
        stem_pool: false,
        tap_after: (0..blocks.len()).collect(),
        blocks,
        taps,
        fc: linear(p / "fc", 64, num_classes),
        num_classes,
    })
}
