//! The model zoo: architectures by name (`resnet20` … `resnet110`, `vgg9-bn`, `resnet18`,
//! `resnet34`), building one into a VarStore, and recognising the architecture of a checkpoint
//! from its tensor names and shapes.

use super::network::Network;
use super::resnet_cifar::{blocks_per_stage, cifar_resnet};
use super::resnet_imagenet::{imagenet_resnet, layer_sizes};
use super::vgg::Vgg9Bn;
use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;
use tch::{nn, Tensor};

/// A network architecture of the zoo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// The official CIFAR-style ResNet of this depth (6n+2).
    CifarResNet(usize),
    /// torchvision's ImageNet ResNet of this depth (18 or 34).
    ImageNetResNet(usize),
    /// The official VGG9 with batch norm.
    Vgg9Bn,
}

/// Every architecture name the zoo knows.
pub const ARCH_NAMES: &[&str] = &[
    "resnet8",
    "resnet20",
    "resnet32",
    "resnet44",
    "resnet56",
    "resnet110",
    "resnet18",
    "resnet34",
    "vgg9-bn",
];

impl FromStr for Arch {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let unknown = || {
            Error::Invalid(format!(
                "unknown architecture `{s}`; known: {}",
                ARCH_NAMES.join(", ")
            ))
        };
        match s {
            "vgg9-bn" | "vgg9_bn" | "vgg9bn" => Ok(Arch::Vgg9Bn),
            _ => {
                let depth: usize = s
                    .strip_prefix("resnet")
                    .and_then(|d| d.parse().ok())
                    .ok_or_else(unknown)?;
                if layer_sizes(depth).is_ok() {
                    Ok(Arch::ImageNetResNet(depth))
                } else if blocks_per_stage(depth).is_ok() {
                    Ok(Arch::CifarResNet(depth))
                } else {
                    Err(unknown())
                }
            }
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arch::CifarResNet(d) | Arch::ImageNetResNet(d) => write!(f, "resnet{d}"),
            Arch::Vgg9Bn => write!(f, "vgg9-bn"),
        }
    }
}

impl Arch {
    /// Builds the network with `num_classes` outputs, its variables under `p`.
    pub fn build(self, p: &nn::Path, num_classes: i64) -> Result<Box<dyn Network>> {
        Ok(match self {
            Arch::CifarResNet(d) => Box::new(cifar_resnet(p, d, num_classes)?),
            Arch::ImageNetResNet(d) => Box::new(imagenet_resnet(p, d, num_classes)?),
            Arch::Vgg9Bn => Box::new(Vgg9Bn::new(p, num_classes)),
        })
    }

    /// The input resolution the architecture is meant for (32 or 224).
    pub fn native_input(self) -> i64 {
        match self {
            Arch::ImageNetResNet(_) => 224,
            _ => 32,
        }
    }

    /// Recognises the architecture and class count of a checkpoint from its tensor names.
    pub fn infer(tensors: &[(String, Tensor)]) -> Result<(Arch, i64)> {
        let has = |n: &str| tensors.iter().any(|(k, _)| k == n);
        let rows = |n: &str| {
            tensors
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, t)| t.size()[0])
        };
        let count = |prefix: &str| {
            let mut idx: Vec<usize> = tensors
                .iter()
                .filter_map(|(k, _)| k.strip_prefix(prefix)?.split('.').next()?.parse().ok())
                .collect();
            idx.sort();
            idx.dedup();
            idx.len()
        };
        if has("features.0.weight") {
            let classes = rows("classifier.weight")
                .ok_or_else(|| Error::Invalid("VGG checkpoint without classifier.weight".into()))?;
            return Ok((Arch::Vgg9Bn, classes));
        }
        let classes = rows("fc.weight").ok_or_else(|| {
            Error::Invalid(
                "checkpoint not recognised: no `features.0.weight` (VGG) nor `fc.weight` (ResNet)"
                    .into(),
            )
        })?;
        if has("block1.conv1.weight") {
            let n = count("blocks2.") + 1;
            return Ok((Arch::CifarResNet(6 * n + 2), classes));
        }
        if has("layer1.0.conv1.weight") {
            let sizes = [
                count("layer1."),
                count("layer2."),
                count("layer3."),
                count("layer4."),
            ];
            for depth in [18, 34] {
                if layer_sizes(depth)?.as_slice() == sizes {
                    return Ok((Arch::ImageNetResNet(depth), classes));
                }
            }
            return Err(Error::Invalid(format!(
                "ImageNet ResNet with blocks {sizes:?} per layer is not in the zoo"
            )));
        }
        Err(Error::Invalid(
            "checkpoint not recognised as any architecture of the zoo".into(),
        ))
    }
}
