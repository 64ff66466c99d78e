//! Networks: the `Network` trait (logits plus named feature taps), the CIFAR-style and ImageNet
//! ResNets and VGG9-bn with the official parameter names, and safetensors weights by name.

mod basic_block;
pub mod layers;
pub mod network;
pub mod resnet;
pub mod resnet_cifar;
pub mod resnet_imagenet;
pub mod vgg;
pub mod weights;
pub mod zoo;

pub use network::{Forward, Network, Tap};
pub use zoo::Arch;

use crate::error::Result;
use std::path::Path;
use tch::{nn::VarStore, Device, Kind};

/// A network together with the VarStore that owns its variables.
pub struct Model {
    /// The variables, named as the official checkpoints name them.
    pub vs: VarStore,
    /// The network.
    pub net: Box<dyn Network>,
    /// Its architecture.
    pub arch: Arch,
}

impl Model {
    /// A freshly initialised network of `arch` on `device` in precision `kind`.
    pub fn new(arch: Arch, num_classes: i64, device: Device, kind: Kind) -> Result<Self> {
        let mut vs = VarStore::new(device);
        let net = arch.build(&vs.root(), num_classes)?;
        vs.set_kind(kind);
        Ok(Model { vs, net, arch })
    }

    /// A network whose architecture and class count come from the checkpoint at `path`,
    /// with its weights loaded.
    pub fn from_checkpoint(path: &Path, device: Device, kind: Kind) -> Result<Self> {
        let file = weights::WeightFile::read(path)?;
        let (arch, classes) = Arch::infer(&file.tensors)
            .map_err(|e| crate::error::Error::bad_file(path, e.to_string()))?;
        let model = Model::new(arch, classes, device, kind)?;
        weights::load_named(&model.vs, &file.tensors, path, &arch.to_string())?;
        Ok(model)
    }
}
