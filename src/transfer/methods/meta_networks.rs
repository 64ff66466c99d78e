//! The L2T-ww meta-networks, one pair each: "what", w = softmax(linear(GAP(S_m))) over the source
//! channels (zero-initialised), and "where", λ = act(linear(GAP(S_m))) with its bias set to
//! `lambda_init` (or, for `const`, λ = softplus(10·v) with one free v per pair). L2T-w learns
//! only w: built without a "where" network, λ is 1. Optionally both read the pooled features
//! standardised per channel ([`Standardization`]); without it they read GAP(S_m) itself.

use super::feature_matching::FeatureMatching;
use super::pairs::Pair;
pub use super::standardize::Standardization;
use crate::error::{Error, Result};
use crate::models::layers::linear;
use crate::models::Tap;
use crate::transfer::stats::gap;
use std::str::FromStr;
use tch::{nn, nn::Init, Tensor};

/// The activation that turns the "where" network's output into λ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LambdaActivation {
    /// relu6 (the paper's default).
    #[serde(rename = "relu6")]
    Relu6,
    /// relu.
    Relu,
    /// relu of the linear map of GAP divided by the channel count.
    ReluAvg,
    /// A learned constant per pair: softplus(10·v).
    Const,
    /// elu + 1.
    Elu,
    /// sigmoid(2·z).
    Sigmoid,
    /// tanh + 1.
    Tanh,
    /// softplus.
    Softplus,
}

impl FromStr for LambdaActivation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.trim_matches('"') {
            "relu6" => Self::Relu6,
            "relu" => Self::Relu,
            "relu-avg" => Self::ReluAvg,
            "const" => Self::Const,
            "elu" => Self::Elu,
            "sigmoid" => Self::Sigmoid,
            "tanh" => Self::Tanh,
            "softplus" => Self::Softplus,
            other => {
                return Err(Error::Invalid(format!(
                    "unknown λ activation `{other}`: use relu6, relu, relu-avg, const, elu, sigmoid, tanh or softplus"
                )))
            }
        })
    }
}

/// "What" and (optionally) "where" networks for a list of pairs, under one VarStore path.
pub struct MetaNetworks {
    pairs: Vec<Pair>,
    what: Vec<nn::Linear>,
    where_: Where,
    standardize: Option<Standardization>,
}

enum Where {
    None,
    Nets(Vec<nn::Linear>, LambdaActivation),
    Constant(Tensor),
}

impl MetaNetworks {
    /// Builds `wnet.{i}` and, when `activation` is given, `lwnet.{i}` (or `lwnet.weights` for
    /// `const`) under `p`; without an activation λ is 1 (L2T-w).
    pub fn new(
        p: &nn::Path,
        source_taps: &[Tap],
        pairs: &[Pair],
        activation: Option<LambdaActivation>,
        lambda_init: f64,
    ) -> Self {
        let zero = nn::LinearConfig {
            ws_init: Init::Const(0.0),
            bs_init: Some(Init::Const(0.0)),
            bias: true,
        };
        let (wp, lp) = (p / "wnet", p / "lwnet");
        let what = pairs
            .iter()
            .enumerate()
            .map(|(i, pr)| {
                let c = source_taps[pr.source].channels;
                nn::linear(&wp / i, c, c, zero)
            })
            .collect();
        let where_ = match activation {
            None => Where::None,
            Some(LambdaActivation::Const) => {
                Where::Constant(lp.zeros("weights", &[pairs.len() as i64]))
            }
            Some(act) => Where::Nets(
                pairs
                    .iter()
                    .enumerate()
                    .map(|(i, pr)| {
                        let l = linear(&lp / i, source_taps[pr.source].channels, 1);
                        let bias = l.bs.as_ref().expect("a linear layer with bias");
                        let _ = tch::no_grad(|| bias.shallow_clone().fill_(lambda_init));
                        l
                    })
                    .collect(),
                act,
            ),
        };
        MetaNetworks {
            pairs: pairs.to_vec(),
            what,
            where_,
            standardize: None,
        }
    }

    /// The same networks reading (GAP(S_m) − mean) / std per channel instead of GAP(S_m).
    pub fn with_standardization(mut self, s: Standardization) -> Self {
        self.standardize = Some(s);
        self
    }

    /// What the networks of a pair on source tap `tap` read: GAP of the map, standardised when
    /// asked for.
    fn input(&self, source: &[Tensor], tap: usize) -> Tensor {
        let g = gap(&source[tap]);
        match &self.standardize {
            None => g,
            Some(s) => s.apply(tap, g),
        }
    }

    /// The input of each pair's networks (batch, C_m), in pair order.
    pub fn inputs(&self, source: &[Tensor]) -> Vec<Tensor> {
        self.pairs
            .iter()
            .map(|p| self.input(source, p.source))
            .collect()
    }

    /// The pairs, in order.
    pub fn pairs(&self) -> &[Pair] {
        &self.pairs
    }

    /// Channel weights w (batch, C_m) for each pair.
    pub fn what(&self, source: &[Tensor]) -> Vec<Tensor> {
        self.pairs
            .iter()
            .zip(&self.what)
            .map(|(p, l)| self.input(source, p.source).apply(l).softmax(1, None))
            .collect()
    }

    /// Pair weights λ (batch, 1), or (1, 1) for `const`, for each pair; None when λ is not
    /// learned.
    pub fn where_(&self, source: &[Tensor]) -> Option<Vec<Tensor>> {
        use LambdaActivation::*;
        let (nets, act) = match &self.where_ {
            Where::None => return None,
            Where::Constant(v) => {
                return Some(
                    (0..self.pairs.len())
                        .map(|i| (v.get(i as i64) * 10.0).softplus().view([1, 1]))
                        .collect(),
                )
            }
            Where::Nets(nets, act) => (nets, *act),
        };
        let lambdas = self
            .pairs
            .iter()
            .zip(nets)
            .map(|(p, l)| {
                let f = self.input(source, p.source);
                if act == ReluAvg {
                    return (&f / f.size()[1] as f64).apply(l).relu();
                }
                let z = f.apply(l);
                match act {
                    Relu6 => z.relu6(),
                    Relu => z.relu(),
                    Elu => z.elu() + 1.0,
                    Sigmoid => (z * 2.0).sigmoid(),
                    Tanh => z.tanh() + 1.0,
                    Softplus => z.softplus(),
                    ReluAvg | Const => unreachable!("handled above"),
                }
            })
            .collect();
        Some(lambdas)
    }

    /// β·WFM of given per-pair, per-channel errors (or of their directional derivatives).
    pub fn weighted_loss_of_errors(&self, errs: &[Tensor], source: &[Tensor], beta: f64) -> Tensor {
        let w = self.what(source);
        let l = self.where_(source);
        FeatureMatching::loss_of_errors(errs, Some(&w), l.as_deref(), beta)
    }
}
