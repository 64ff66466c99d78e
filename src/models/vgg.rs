//! The official VGG9-bn target (`VGG_small` with configuration B): `features.N` as in
//! PyTorch's `nn.Sequential` numbering (conv with bias, BN, relu; `M` = 2×2 max-pool), a global
//! average pool and `classifier` Linear(512 → classes). Taps are the maps just before each
//! max-pool.

use super::layers::{bn, conv};
use super::network::{Forward, Network, Tap, POOL2};
use tch::{nn, nn::Init, Tensor};

/// Configuration B of the official code: channel counts, 0 for a max-pool.
const VGG9: [i64; 13] = [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0];

#[allow(clippy::large_enum_variant)] // a handful per network, never moved in bulk
enum Layer {
    Conv(nn::Conv2D, nn::BatchNorm),
    Pool,
}

/// VGG9 with batch norm.
pub struct Vgg9Bn {
    layers: Vec<Layer>,
    classifier: nn::Linear,
    taps: Vec<Tap>,
    num_classes: i64,
}

impl Vgg9Bn {
    /// Builds VGG9-bn with `num_classes` outputs under `p`.
    pub fn new(p: &nn::Path, num_classes: i64) -> Self {
        let f = p / "features";
        let (mut layers, mut taps, mut down) = (Vec::new(), Vec::new(), Vec::new());
        let (mut idx, mut c_in) = (0usize, 3i64);
        for &c in &VGG9 {
            if c == 0 {
                taps.push(Tap {
                    name: format!("features.{}", idx - 1),
                    channels: c_in,
                    downsampling: down.clone(),
                });
                down.push(POOL2);
                layers.push(Layer::Pool);
                idx += 1;
            } else {
                let cv = conv(&f / idx, c_in, c, 3, 1, 1, true);
                let b = bn(&f / (idx + 1), c);
                layers.push(Layer::Conv(cv, b));
                idx += 3;
                c_in = c;
            }
        }
        let cfg = nn::LinearConfig {
            ws_init: Init::Randn {
                mean: 0.0,
                stdev: 0.01,
            },
            bs_init: Some(Init::Const(0.0)),
            bias: true,
        };
        let classifier = nn::linear(p / "classifier", c_in, num_classes, cfg);
        Vgg9Bn {
            layers,
            classifier,
            taps,
            num_classes,
        }
    }
}

impl Network for Vgg9Bn {
    fn arch(&self) -> &str {
        "vgg9-bn"
    }
    fn taps(&self) -> &[Tap] {
        &self.taps
    }
    fn num_classes(&self) -> i64 {
        self.num_classes
    }
    fn forward_t(&self, x: &Tensor, train: bool) -> Forward {
        let mut h = x.shallow_clone();
        let mut features = Vec::with_capacity(self.taps.len());
        for layer in &self.layers {
            h = match layer {
                Layer::Conv(c, b) => h.apply(c).apply_t(b, train).relu(),
                Layer::Pool => {
                    features.push(h.shallow_clone());
                    h.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)
                }
            };
        }
        let pooled = h.adaptive_avg_pool2d([1, 1]).flatten(1, -1);
        let logits = pooled.apply(&self.classifier);
        Forward {
            logits,
            features,
            pooled,
        }
    }
}
