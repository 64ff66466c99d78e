//! The `Network` trait every model implements: logits plus its named feature taps, each with its
//! channel count and the spatial size it has for a given input size, so that no later code
//! hard-codes channel lists.

use tch::Tensor;

/// One feature tap of a network: where it is and what shape it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tap {
    /// The parameter path of the module whose output this is (e.g. `blocks2.3`, `features.2`).
    pub name: String,
    /// Channel count of the tapped map.
    pub channels: i64,
    /// Downsampling layers between the input and this tap, as (kernel, stride, padding).
    pub(crate) downsampling: Vec<(i64, i64, i64)>,
}

impl Tap {
    /// A tap `name` with `channels` channels behind the given downsampling layers, each
    /// (kernel, stride, padding).
    pub fn new(name: impl Into<String>, channels: i64, downsampling: Vec<(i64, i64, i64)>) -> Self {
        Tap {
            name: name.into(),
            channels,
            downsampling,
        }
    }

    /// Spatial size (height or width) of this tap for an input of size `input`.
    pub fn spatial(&self, input: i64) -> i64 {
        self.downsampling
            .iter()
            .fold(input, |h, &(k, s, p)| (h + 2 * p - k) / s + 1)
    }
}

/// The output of one forward pass: logits and every tapped feature map, in tap order.
pub struct Forward {
    /// Class scores, (batch, classes).
    pub logits: Tensor,
    /// The tapped maps, (batch, channels, h, w) each, in the order of [`Network::taps`].
    pub features: Vec<Tensor>,
    /// The globally pooled features the classifier reads, (batch, dim).
    pub pooled: Tensor,
}

/// A classification network with named feature taps.
pub trait Network: Send {
    /// The architecture's name (e.g. `resnet32`).
    fn arch(&self) -> &str;
    /// The feature taps, in the order [`Forward::features`] returns them.
    fn taps(&self) -> &[Tap];
    /// Number of output classes.
    fn num_classes(&self) -> i64;
    /// Runs the network; `train` selects batch statistics in batch norm.
    fn forward_t(&self, x: &Tensor, train: bool) -> Forward;
    /// Logits only.
    fn logits_t(&self, x: &Tensor, train: bool) -> Tensor {
        self.forward_t(x, train).logits
    }
    /// A table of the taps for an input of `input`×`input` pixels, one line each.
    fn describe_taps(&self, input: i64) -> String {
        self.taps()
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let s = t.spatial(input);
                format!("{i:>3}  {:<14} {}x{}x{}", t.name, t.channels, s, s)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The (kernel, stride, padding) of a 3×3 convolution with padding 1 and stride 2.
pub(crate) const CONV3_S2: (i64, i64, i64) = (3, 2, 1);
/// The (kernel, stride, padding) of a 2×2 max-pool with stride 2.
pub(crate) const POOL2: (i64, i64, i64) = (2, 2, 0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spatial_sizes_follow_the_downsampling_layers() {
        let tap = Tap {
            name: "x".into(),
            channels: 8,
            downsampling: vec![CONV3_S2, POOL2],
        };
        assert_eq!(tap.spatial(32), 8);
        assert_eq!(tap.spatial(33), 8);
        let stem = Tap {
            name: "y".into(),
            channels: 64,
            downsampling: vec![(7, 2, 3), (3, 2, 1)],
        };
        assert_eq!(stem.spatial(224), 56);
    }
}
