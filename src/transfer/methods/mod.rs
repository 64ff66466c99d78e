//! Transfer methods as loss terms and hooks on the one training engine: `scratch`, `finetune`,
//! `lwf`, `at`, `fm`, `l2t-w`, `l2t-ww` (any of the matching methods with several sources), with
//! their building blocks: pairs and pair schemes, feature matching, the meta-networks, their
//! optimizer and the L2T-ww look-ahead and meta-gradient.

pub mod attention;
pub mod cross_entropy;
pub mod feature_matching;
pub mod fm;
pub mod l2t;
pub mod l2t_options;
pub mod l2tww;
pub mod lwf;
pub mod meta_networks;
pub mod meta_optimizer;
pub mod pairs;
pub mod plain;
pub mod replica;
pub mod schemes;
pub mod spec;
mod spec_serde;
pub mod standardize;

pub use spec::MethodSpec;

use crate::models::Model;
use tch::{Device, Kind};

/// What building a method needs to know.
pub struct BuildContext<'a> {
    /// The target network.
    pub target: &'a Model,
    /// The source networks.
    pub sources: &'a [Model],
    /// Input size (height = width) the networks see.
    pub input: i64,
    /// Device of every tensor.
    pub device: Device,
    /// Precision.
    pub kind: Kind,
    /// The target's SGD momentum (an SGD meta optimizer uses it too).
    pub momentum: f64,
}
