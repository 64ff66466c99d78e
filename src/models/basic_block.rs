//! torchvision's BasicBlock (conv3×3 → BN → relu → conv3×3 → BN, plus identity or a 1×1
//! downsample, → relu), shared by the CIFAR-style and the ImageNet ResNets.

use super::layers::{bn, conv};
use tch::{nn, nn::ModuleT, Tensor};

/// One residual block, with parameters `conv1`, `bn1`, `conv2`, `bn2` and optionally
/// `downsample.0` (1×1 conv, no bias) and `downsample.1` (BN) under its path.
#[derive(Debug)]
pub struct BasicBlock {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    conv2: nn::Conv2D,
    bn2: nn::BatchNorm,
    downsample: Option<(nn::Conv2D, nn::BatchNorm)>,
}

impl BasicBlock {
    /// A block from `c_in` to `c_out` channels; a stride or channel change adds a downsample.
    pub fn new(p: nn::Path, c_in: i64, c_out: i64, stride: i64) -> Self {
        let downsample = (stride != 1 || c_in != c_out).then(|| {
            let d = &p / "downsample";
            (
                conv(&d / "0", c_in, c_out, 1, stride, 0, false),
                bn(&d / "1", c_out),
            )
        });
        BasicBlock {
            conv1: conv(&p / "conv1", c_in, c_out, 3, stride, 1, false),
            bn1: bn(&p / "bn1", c_out),
            conv2: conv(&p / "conv2", c_out, c_out, 3, 1, 1, false),
            bn2: bn(&p / "bn2", c_out),
            downsample,
        }
    }
}

impl ModuleT for BasicBlock {
    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let out = x.apply(&self.conv1).apply_t(&self.bn1, train).relu();
        let out = out.apply(&self.conv2).apply_t(&self.bn2, train);
        let identity = match &self.downsample {
            Some((c, b)) => x.apply(c).apply_t(b, train),
            None => x.shallow_clone(),
        };
        (out + identity).relu()
    }
}
