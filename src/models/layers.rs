//! Layer constructors with PyTorch's initialisation and the official code's choices (Kaiming
//! normal fan-out convolutions, batch norm weight 1 and bias 0), shared by every architecture.

use tch::nn::{self, init::FanInOut, init::NonLinearity, init::NormalOrUniform, Init};

/// Kaiming normal, fan-out, ReLU: the official code's conv initialisation.
pub const KAIMING_FAN_OUT: Init = Init::Kaiming {
    dist: NormalOrUniform::Normal,
    fan: FanInOut::FanOut,
    non_linearity: NonLinearity::ReLU,
};

/// A `k`×`k` convolution with the given stride and padding.
pub fn conv(
    p: nn::Path,
    c_in: i64,
    c_out: i64,
    k: i64,
    stride: i64,
    pad: i64,
    bias: bool,
) -> nn::Conv2D {
    let cfg = nn::ConvConfig {
        stride,
        padding: pad,
        bias,
        ws_init: KAIMING_FAN_OUT,
        bs_init: Init::Const(0.0),
        ..Default::default()
    };
    nn::conv2d(p, c_in, c_out, k, cfg)
}

/// Batch norm over `c` channels: eps 1e-5, momentum 0.1, weight 1, bias 0 (PyTorch's defaults).
pub fn bn(p: nn::Path, c: i64) -> nn::BatchNorm {
    let cfg = nn::BatchNormConfig {
        ws_init: Init::Const(1.0),
        bs_init: Init::Const(0.0),
        ..Default::default()
    };
    nn::batch_norm2d(p, c, cfg)
}

/// A linear layer with PyTorch's default initialisation (uniform ±1/√fan_in for both).
pub fn linear(p: nn::Path, c_in: i64, c_out: i64) -> nn::Linear {
    let bound = 1.0 / (c_in as f64).sqrt();
    let cfg = nn::LinearConfig {
        ws_init: Init::Uniform {
            lo: -bound,
            up: bound,
        },
        bs_init: Some(Init::Uniform {
            lo: -bound,
            up: bound,
        }),
        bias: true,
    };
    nn::linear(p, c_in, c_out, cfg)
}
