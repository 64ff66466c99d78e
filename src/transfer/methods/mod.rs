//! Transfer methods as loss terms and hooks on the one training engine. So far: feature
//! matching with its pairs, the L2T-ww meta-networks and the L2T-ww iteration.

pub mod cross_entropy;
pub mod feature_matching;
pub mod l2tww;
pub mod meta_networks;
pub mod pairs;
