//! One L2T-ww iteration as the official loop runs it: an SGD step on CE + WFM; T look-ahead steps
//! on WFM alone and one on CE, recorded; the meta-gradient of the final CE through those T+1
//! steps (exact second order); an Adam step on the meta-networks; the roll-back of the target
//! (parameters and momentum) to its state before the look-ahead. Source features are computed
//! once per iteration and shared by every objective. With several sources (multi-source
//! transfer) every source has its own 1×1 convs and meta-networks and their WFM terms add up.

use super::cross_entropy::cross_entropy;
use super::feature_matching::FeatureMatching;
use super::meta_networks::MetaNetworks;
use crate::models::Network;
use crate::transfer::meta::{grads_or_zero, Adam, Sgd, Tape};
use tch::Tensor;

/// Hyper-parameters of the L2T-ww iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct L2twwConfig {
    /// Weight of the matching loss.
    pub beta: f64,
    /// Look-ahead steps on WFM alone.
    pub lookahead: usize,
}

/// What one iteration measured (losses of the first step and the final CE).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IterationLog {
    /// Cross-entropy of the CE + WFM step.
    pub inner_ce: f64,
    /// Weighted feature-matching loss of the CE + WFM step.
    pub inner_wfm: f64,
    /// Cross-entropy after the look-ahead, which the meta-gradient differentiates.
    pub outer_ce: f64,
}

/// The objectives an L2T-ww iteration optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Weighted feature matching alone.
    Wfm,
    /// Cross-entropy alone.
    Ce,
}

/// One source's part of the matching loss.
pub struct SourceTerm<'a> {
    /// The 1×1 convs, trained with the target.
    pub matching: &'a FeatureMatching,
    /// The meta-networks.
    pub meta: &'a MetaNetworks,
}

/// The parts one iteration works on.
pub struct L2tww<'a> {
    /// The target network (train mode).
    pub target: &'a dyn Network,
    /// One term per source, in the order of the source features passed in.
    pub terms: Vec<SourceTerm<'a>>,
    /// The meta-networks' parameters, in the order of `meta_opt`.
    pub meta_params: &'a [Tensor],
    /// The target's non-trained state (batch-norm running statistics): the look-ahead's
    /// forward passes move it, and the roll-back restores it, as the official code does.
    pub buffers: &'a [Tensor],
    /// Hyper-parameters.
    pub cfg: L2twwConfig,
}

impl L2tww<'_> {
    fn save_buffers(&self) -> Vec<Tensor> {
        self.buffers.iter().map(|b| b.detach().copy()).collect()
    }

    fn restore_buffers(&self, saved: &[Tensor]) {
        tch::no_grad(|| {
            for (b, s) in self.buffers.iter().zip(saved) {
                b.shallow_clone().copy_(s);
            }
        });
    }

    /// β·Σ_sources WFM for the target's features.
    pub fn wfm(&self, sources: &[Vec<Tensor>], target: &[Tensor]) -> Tensor {
        let mut terms = self
            .terms
            .iter()
            .zip(sources)
            .map(|(t, s)| t.meta.weighted_loss(t.matching, s, target, self.cfg.beta));
        let first = terms.next().expect("at least one source");
        terms.fold(first, |acc, t| acc + t)
    }

    fn objective(&self, obj: Objective, sources: &[Vec<Tensor>], x: &Tensor, y: &Tensor) -> Tensor {
        let out = self.target.forward_t(x, true);
        match obj {
            Objective::Wfm => self.wfm(sources, &out.features),
            Objective::Ce => cross_entropy(&out.logits, y),
        }
    }

    /// Takes the recorded look-ahead steps (T on WFM, one on CE) and returns the tape and the
    /// CE after them.
    fn lookahead(
        &self,
        sgd: &mut Sgd,
        sources: &[Vec<Tensor>],
        x: &Tensor,
        y: &Tensor,
    ) -> (Tape<Objective>, Tensor) {
        let mut tape = sgd.begin_lookahead();
        let steps = std::iter::repeat_n(Objective::Wfm, self.cfg.lookahead).chain([Objective::Ce]);
        for obj in steps {
            let loss = self.objective(obj, sources, x, y);
            let g = grads_or_zero(&loss, sgd.params(), false);
            sgd.record_step(&mut tape, obj, &g);
        }
        let outer = self.objective(Objective::Ce, sources, x, y);
        (tape, outer)
    }

    /// The CE after the look-ahead steps; the target is rolled back afterwards. (What the
    /// meta-gradient differentiates: useful for checking it numerically.)
    pub fn outer_after_lookahead(
        &self,
        sgd: &mut Sgd,
        sources: &[Vec<Tensor>],
        x: &Tensor,
        y: &Tensor,
    ) -> f64 {
        let saved = self.save_buffers();
        let (tape, outer) = self.lookahead(sgd, sources, x, y);
        sgd.rollback(tape);
        self.restore_buffers(&saved);
        f64::try_from(&outer).unwrap_or(f64::NAN)
    }

    /// The meta-gradient d CE(after look-ahead) / d φ, exact to second order, and that CE; the
    /// target is rolled back to its state before the look-ahead.
    pub fn meta_gradient(
        &self,
        sgd: &mut Sgd,
        sources: &[Vec<Tensor>],
        x: &Tensor,
        y: &Tensor,
    ) -> (Vec<Tensor>, f64) {
        let saved = self.save_buffers();
        let (tape, outer) = self.lookahead(sgd, sources, x, y);
        let outer_ce = f64::try_from(&outer).unwrap_or(f64::NAN);
        let a0 = grads_or_zero(&outer, sgd.params(), false);
        let meta_grad = sgd.meta_backward(&tape, a0, self.meta_params, |obj| {
            self.objective(*obj, sources, x, y)
        });
        sgd.rollback(tape);
        self.restore_buffers(&saved);
        (meta_grad, outer_ce)
    }

    /// Runs one iteration on batch (`x`, `y`) with the sources' features `sources` (computed
    /// without gradient). Returns the meta-gradient (before the Adam step) and the losses.
    pub fn iteration(
        &self,
        sgd: &mut Sgd,
        meta_opt: &mut Adam,
        sources: &[Vec<Tensor>],
        x: &Tensor,
        y: &Tensor,
    ) -> (Vec<Tensor>, IterationLog) {
        let out = self.target.forward_t(x, true);
        let ce = cross_entropy(&out.logits, y);
        let wfm = self.wfm(sources, &out.features);
        let log0 = (
            f64::try_from(&ce).unwrap_or(f64::NAN),
            f64::try_from(&wfm).unwrap_or(f64::NAN),
        );
        let g = grads_or_zero(&(ce + wfm), sgd.params(), false);
        sgd.step(&g);

        let (meta_grad, outer_ce) = self.meta_gradient(sgd, sources, x, y);
        meta_opt.step(&meta_grad);
        (
            meta_grad,
            IterationLog {
                inner_ce: log0.0,
                inner_wfm: log0.1,
                outer_ce,
            },
        )
    }
}
