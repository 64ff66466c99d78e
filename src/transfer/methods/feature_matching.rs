//! Feature matching between a frozen source and the target: per pair, a 1×1 conv maps the
//! target's tap n to the source's channel count, the source map is bilinearly resized to the
//! target's size (align_corners false, scale factor as the official code passes it), and the
//! per-channel squared error is averaged over space. Weighted by w (channels) and λ (pair), or
//! unweighted, times β, summed over pairs.

use super::pairs::Pair;
use crate::models::Tap;
use tch::{nn, Tensor};

/// The 1×1 convolutions of every pair (`branch.{i}`), trained with the target.
pub struct FeatureMatching {
    pairs: Vec<Pair>,
    convs: Vec<nn::Conv2D>,
    prefix: Vec<String>,
}

impl FeatureMatching {
    /// Builds one 1×1 conv per pair under `p`, with PyTorch's default initialisation.
    pub fn new(p: &nn::Path, source_taps: &[Tap], target_taps: &[Tap], pairs: &[Pair]) -> Self {
        let convs = pairs
            .iter()
            .enumerate()
            .map(|(i, pr)| {
                let (c_in, c_out) = (
                    target_taps[pr.target].channels,
                    source_taps[pr.source].channels,
                );
                let bound = 1.0 / (c_in as f64).sqrt();
                let cfg = nn::ConvConfig {
                    ws_init: nn::Init::Uniform {
                        lo: -bound,
                        up: bound,
                    },
                    bs_init: nn::Init::Uniform {
                        lo: -bound,
                        up: bound,
                    },
                    ..Default::default()
                };
                nn::conv2d(p / i, c_in, c_out, 1, cfg)
            })
            .collect();
        FeatureMatching {
            pairs: pairs.to_vec(),
            convs,
            prefix: p.components().map(str::to_string).collect(),
        }
    }

    /// A second set of the same convs (same shapes, same variable names) in `vs`, for a copy of
    /// the trained state; the values are whatever is copied in later.
    pub fn replicate(&self, vs: &nn::VarStore) -> Self {
        let p = self.prefix.iter().fold(vs.root(), |p, c| p / c.as_str());
        let convs = self
            .convs
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let s = c.ws.size();
                nn::conv2d(&p / i, s[1], s[0], 1, Default::default())
            })
            .collect();
        FeatureMatching {
            pairs: self.pairs.clone(),
            convs,
            prefix: self.prefix.clone(),
        }
    }

    /// The pairs, in order.
    pub fn pairs(&self) -> &[Pair] {
        &self.pairs
    }

    /// Per-pair, per-channel squared errors, (batch, C_m) each.
    pub fn channel_errors(&self, source: &[Tensor], target: &[Tensor]) -> Vec<Tensor> {
        self.errors_of_resized(&self.resized(source, target), target)
    }

    /// Each pair's source map resized to its target map's size (the source's own map where the
    /// sizes agree): constant for a batch, so computed once for every objective on it.
    pub fn resized(&self, source: &[Tensor], target: &[Tensor]) -> Vec<Tensor> {
        self.pairs
            .iter()
            .map(|p| {
                let (s, t) = (&source[p.source], &target[p.target]);
                let (sw, tw) = (s.size()[3], t.size()[3]);
                if sw == tw {
                    s.shallow_clone()
                } else {
                    let scale = tw as f64 / sw as f64;
                    s.upsample_bilinear2d([t.size()[2], tw], false, scale, scale)
                }
            })
            .collect()
    }

    /// [`FeatureMatching::channel_errors`] from the resized source maps of
    /// [`FeatureMatching::resized`].
    pub fn errors_of_resized(&self, resized: &[Tensor], target: &[Tensor]) -> Vec<Tensor> {
        self.pairs
            .iter()
            .zip(&self.convs)
            .zip(resized)
            .map(|((p, conv), s)| {
                let t = &target[p.target];
                // (conv(t) − s)², the same numbers as (s − conv(t))², in one pass.
                t.apply(conv).mse_loss(s, tch::Reduction::None).mean_dim(
                    &[2i64, 3][..],
                    false,
                    t.kind(),
                )
            })
            .collect()
    }

    /// β·Σ_pairs mean_batch(λ·Σ_c w_c·err_c); without w the channel mean, without λ weight 1.
    pub fn loss(
        &self,
        source: &[Tensor],
        target: &[Tensor],
        what: Option<&[Tensor]>,
        where_: Option<&[Tensor]>,
        beta: f64,
    ) -> Tensor {
        Self::loss_of_errors(&self.channel_errors(source, target), what, where_, beta)
    }

    /// [`FeatureMatching::loss`] of given per-pair, per-channel errors (or of their directional
    /// derivatives, which it is linear in).
    pub fn loss_of_errors(
        errs: &[Tensor],
        what: Option<&[Tensor]>,
        where_: Option<&[Tensor]>,
        beta: f64,
    ) -> Tensor {
        let mut total: Option<Tensor> = None;
        for (i, e) in errs.iter().enumerate() {
            let per_sample = match what {
                Some(w) => (e * &w[i]).sum_dim_intlist(1, false, e.kind()),
                None if where_.is_some() => e.sum_dim_intlist(1, false, e.kind()),
                None => e.mean_dim(1, false, e.kind()),
            };
            let per_sample = match where_ {
                Some(l) => per_sample * l[i].view([-1]),
                None => per_sample,
            };
            let term = per_sample.mean(e.kind()) * beta;
            total = Some(match total {
                None => term,
                Some(acc) => acc + term,
            });
        }
        total.unwrap_or_else(|| Tensor::from(0.0))
    }
}
