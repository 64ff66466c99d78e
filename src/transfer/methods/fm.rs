//! `fm`: unweighted feature matching, β·Σ_pairs mean over channels, space and batch of the
//! squared error between the (resized) source map and the 1×1-conv-mapped target map; one set
//! of 1×1 convs per source, trained with the target.

use super::feature_matching::FeatureMatching;
use super::pairs::Pair;
use super::schemes::PairScheme;
use super::BuildContext;
use crate::error::Result;
use crate::transfer::engine::{Method, StepContext};
use tch::{nn::VarStore, Tensor};

/// Unweighted feature matching from every source.
pub struct Fm {
    stores: Vec<VarStore>,
    matching: Vec<FeatureMatching>,
    beta: f64,
}

impl Fm {
    /// Builds the 1×1 convs of `scheme` for every source.
    pub fn new(ctx: &BuildContext, scheme: &PairScheme, beta: f64) -> Result<Self> {
        let (stores, matching) = matching_per_source(ctx, scheme)?
            .into_iter()
            .map(|(vs, m, _)| (vs, m))
            .unzip();
        Ok(Fm {
            stores,
            matching,
            beta,
        })
    }
}

/// For every source: the pairs of `scheme` and their 1×1 convs (`branch.{i}`) in a VarStore of
/// their own, in the context's precision.
pub(crate) fn matching_per_source(
    ctx: &BuildContext,
    scheme: &PairScheme,
) -> Result<Vec<(VarStore, FeatureMatching, Vec<Pair>)>> {
    ctx.sources
        .iter()
        .map(|source| {
            let pairs = scheme.resolve(source.net.taps(), ctx.target.net.taps(), ctx.input)?;
            let mut vs = VarStore::new(ctx.device);
            let m = FeatureMatching::new(
                &(vs.root() / "branch"),
                source.net.taps(),
                ctx.target.net.taps(),
                &pairs,
            );
            vs.set_kind(ctx.kind);
            Ok((vs, m, pairs))
        })
        .collect()
}

/// The tensor called `name` in a method's saved state.
pub(crate) fn state_tensor(state: &[(String, Tensor)], name: &str) -> Option<Tensor> {
    state
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, t)| t.shallow_clone())
}

/// Named trainable variables of several stores, prefixed `s{i}.`.
pub(crate) fn named_params(stores: &[VarStore]) -> Vec<(String, Tensor)> {
    stores
        .iter()
        .enumerate()
        .flat_map(|(i, vs)| {
            vs.variables()
                .into_iter()
                .filter(|(_, t)| t.requires_grad())
                .map(move |(n, t)| (format!("s{i}.{n}"), t))
        })
        .collect()
}

impl Method for Fm {
    fn name(&self) -> &str {
        "fm"
    }

    fn trained_params(&self) -> Vec<(String, Tensor)> {
        named_params(&self.stores)
    }

    fn terms(&self, ctx: &StepContext) -> Vec<(String, Tensor)> {
        let mut total: Option<Tensor> = None;
        for (m, s) in self.matching.iter().zip(ctx.sources) {
            let t = m.loss(&s.features, &ctx.target.features, None, None, self.beta);
            total = Some(match total {
                None => t,
                Some(acc) => acc + t,
            });
        }
        total
            .map(|t| vec![("fm".to_string(), t)])
            .unwrap_or_default()
    }
}
