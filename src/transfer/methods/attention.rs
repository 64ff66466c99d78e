//! `at`: attention transfer (Zagoruyko & Komodakis). A map's attention is the channel mean of its
//! squares, flattened and L2-normalised per sample; the source's is resized to the target's size
//! when they differ. Two formulas: `code` (the authors' code: β/2 · mean over batch and
//! positions of the squared difference) and `paper` (β/2 · mean over the batch of the L2 norm of
//! the difference, divided by the number of positions).

use super::schemes::PairScheme;
use super::BuildContext;
use crate::error::Result;
use crate::transfer::engine::{Method, StepContext};
use crate::transfer::methods::pairs::Pair;
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// Which attention-transfer formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AtFormula {
    /// The authors' code.
    #[default]
    Code,
    /// The paper's equation.
    Paper,
}

/// Attention transfer from every source.
pub struct Attention {
    pairs: Vec<Vec<Pair>>,
    beta: f64,
    formula: AtFormula,
}

/// The normalised attention map of `f`, (batch, h·w).
pub fn attention(f: &Tensor) -> Tensor {
    let a = f.square().mean_dim(1, false, f.kind()).flatten(1, -1);
    let norm = a.norm_scalaropt_dim(2.0, [1i64], true).clamp_min(1e-12);
    a / norm
}

impl Attention {
    /// Attention transfer over `scheme`'s pairs of every source.
    pub fn new(
        ctx: &BuildContext,
        scheme: &PairScheme,
        beta: f64,
        formula: AtFormula,
    ) -> Result<Self> {
        let pairs = ctx
            .sources
            .iter()
            .map(|s| scheme.resolve(s.net.taps(), ctx.target.net.taps(), ctx.input))
            .collect::<Result<_>>()?;
        Ok(Attention {
            pairs,
            beta,
            formula,
        })
    }

    fn pair_loss(&self, s: &Tensor, t: &Tensor) -> Tensor {
        let (th, tw) = (t.size()[2], t.size()[3]);
        let s = if s.size()[2..] == t.size()[2..] {
            s.shallow_clone()
        } else {
            s.upsample_bilinear2d([th, tw], false, None, None)
        };
        let d = attention(&s) - attention(t);
        match self.formula {
            AtFormula::Code => d.square().mean(d.kind()) * (self.beta / 2.0),
            AtFormula::Paper => {
                d.norm_scalaropt_dim(2.0, [1i64], false).mean(d.kind())
                    * (self.beta / 2.0 / (th * tw) as f64)
            }
        }
    }
}

impl Method for Attention {
    fn name(&self) -> &str {
        "at"
    }

    fn terms(&self, ctx: &StepContext) -> Vec<(String, Tensor)> {
        let mut total: Option<Tensor> = None;
        for (pairs, s) in self.pairs.iter().zip(ctx.sources) {
            for p in pairs {
                let l = self.pair_loss(&s.features[p.source], &ctx.target.features[p.target]);
                total = Some(match total {
                    None => l,
                    Some(acc) => acc + l,
                });
            }
        }
        total
            .map(|t| vec![("at".to_string(), t)])
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn attention_maps_are_unit_vectors_and_equal_maps_cost_nothing() {
        let f = Tensor::randn([2, 5, 4, 4], (Kind::Double, Device::Cpu));
        let a = attention(&f);
        let norms = Vec::<f64>::try_from(a.norm_scalaropt_dim(2.0, [1i64], false)).unwrap();
        assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-12));
        let at = Attention {
            pairs: vec![],
            beta: 1000.0,
            formula: AtFormula::Code,
        };
        assert!(f64::try_from(at.pair_loss(&f, &(&f * 3.0))).unwrap() < 1e-20);
        assert!(f64::try_from(at.pair_loss(&f, &f.randn_like())).unwrap() > 0.0);
    }
}
