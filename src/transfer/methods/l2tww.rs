//! L2T-ww's look-ahead and meta-gradient, as the official loop computes them after its live SGD
//! step on CE + WFM (which is the engine's `train_step` with `L2t`'s term): T look-ahead steps on
//! WFM alone and one on CE; the meta-gradient of the final CE through those T+1 steps (exact
//! second order, or first order); the target's parameters and momentum left as they were before
//! the look-ahead. Its batch-norm running statistics are left as the official loop leaves them:
//! moved once more by the first look-ahead step's forward pass at the live parameters (the
//! official `meta_backward` restores that step's state and runs its objective again in train
//! mode, and with roll-back nothing restores the statistics afterwards). Source features are
//! computed once per batch and shared by every objective. With several sources (multi-source
//! transfer) every source has its own 1×1 convs and meta-networks and their WFM terms add up.
//! `L2t` (`l2t.rs`) assembles the parts and drives this after each training step; the meta
//! optimizer's step is its.
//!
//! How it is computed: step k writes its parameters into replica k (`replica.rs`), so the live
//! target is never modified and the graph of each step's gradient stays valid for the
//! meta-gradient, which reuses it instead of recomputing the step. The first look-ahead step
//! needs only its mixed term d(∇θ WFM · u)/dφ, which is linear in the directional derivatives
//! of the per-channel errors along u: one forward-mode pass (`meta::forward_ad`) replaces a
//! graph and a double backward there.

use super::cross_entropy::cross_entropy;
use super::feature_matching::FeatureMatching;
use super::meta_networks::MetaNetworks;
use super::replica::Replica;
use crate::models::Network;
use crate::transfer::meta::forward_ad::with_dual_level;
use crate::transfer::meta::{grads_or_zero, Recorded, Sgd};
use crate::transfer::phases::phase;
use std::cell::OnceCell;
use std::rc::Rc;
use tch::Tensor;

/// How the meta-gradient goes back through the look-ahead steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetaGradient {
    /// Exact to second order: the official recursion, with a Hessian-vector product at every
    /// look-ahead step after the first.
    #[default]
    Exact,
    /// The Hessian-vector products left out (first-order, as first-order MAML): every WFM
    /// step still contributes its mixed term d(∇θ WFM · u)/dφ — the only path to the
    /// meta-networks — by one forward-mode pass at the parameters it was taken at, and the
    /// adjoint goes back through the steps' weight decay and momentum alone.
    FirstOrder,
}

/// Hyper-parameters of the L2T-ww look-ahead and meta-gradient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct L2twwConfig {
    /// Weight of the matching loss.
    pub beta: f64,
    /// Look-ahead steps on WFM alone.
    pub lookahead: usize,
    /// Exact or first-order meta-gradient.
    pub meta_gradient: MetaGradient,
}

/// The objectives of the look-ahead steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Weighted feature matching alone.
    Wfm,
    /// Cross-entropy alone.
    Ce,
}

impl std::fmt::Display for Objective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Objective::Wfm => "WFM",
            Objective::Ce => "CE",
        })
    }
}

/// One source's part of the matching loss.
pub struct SourceTerm<'a> {
    /// The 1×1 convs, trained with the target.
    pub matching: &'a FeatureMatching,
    /// The meta-networks.
    pub meta: &'a MetaNetworks,
}

/// The parts the look-ahead and the meta-gradient work on (a view of `L2t`'s, or of a test's).
pub struct L2tww<'a> {
    /// The target network (train mode).
    pub target: &'a dyn Network,
    /// One term per source, in the order of the source features passed in.
    pub terms: Vec<SourceTerm<'a>>,
    /// The meta-networks' parameters, in the order the meta-gradient is returned in.
    pub meta_params: &'a [Tensor],
    /// The target's non-trained state (batch-norm running statistics). The first look-ahead
    /// step's forward pass at the live parameters moves it, as the official loop's re-run of that
    /// step does; the forward-mode pass at the same parameters would move it again, so what the
    /// look-ahead left is restored after the meta-gradient.
    pub buffers: &'a [Tensor],
    /// Where the look-ahead steps write: T + 1 replicas (or more), each with its parameters in
    /// the optimizer's order.
    pub lookahead: Vec<Lookahead<'a>>,
    /// Hyper-parameters.
    pub cfg: L2twwConfig,
    /// Per source, each pair's source map resized to the target's, when already computed for
    /// this batch (by the live step); None computes them.
    pub resized: Option<Vec<Vec<Tensor>>>,
}

/// A replica and its parameters in the optimizer's order.
pub struct Lookahead<'a> {
    /// The replica.
    pub replica: &'a Replica,
    /// Its parameters, aligned with the optimizer's.
    pub params: Vec<Tensor>,
}

/// A network with one set of 1×1 convs per source: the live target or a replica.
struct State<'b> {
    net: &'b dyn Network,
    matching: Vec<&'b FeatureMatching>,
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

    fn live(&self) -> State<'_> {
        State {
            net: self.target,
            matching: self.terms.iter().map(|t| t.matching).collect(),
        }
    }

    fn replica(&self, k: usize) -> State<'_> {
        let r = self.lookahead[k].replica;
        State {
            net: r.net.as_ref(),
            matching: r.matching.iter().collect(),
        }
    }

    /// Per source, each pair's source map resized to the target's (all 1×1-conv sets have the
    /// same pairs, so the live ones tell).
    fn resized(&self, sources: &[Vec<Tensor>], target: &[Tensor]) -> Vec<Vec<Tensor>> {
        self.terms
            .iter()
            .zip(sources)
            .map(|(t, s)| t.matching.resized(s, target))
            .collect()
    }

    fn wfm_with(
        &self,
        matching: &[&FeatureMatching],
        sources: &[Vec<Tensor>],
        resized: &[Vec<Tensor>],
        target: &[Tensor],
    ) -> Tensor {
        self.terms
            .iter()
            .zip(matching)
            .zip(sources.iter().zip(resized))
            .map(|((t, m), (s, r))| {
                let errs = m.errors_of_resized(r, target);
                t.meta.weighted_loss_of_errors(&errs, s, self.cfg.beta)
            })
            .reduce(|acc, t| acc + t)
            .expect("at least one source")
    }

    /// The loss `obj` of `state` on the batch; `resized` caches the resized source maps.
    fn objective(
        &self,
        state: &State,
        obj: Objective,
        sources: &[Vec<Tensor>],
        resized: &OnceCell<Vec<Vec<Tensor>>>,
        x: &Tensor,
        y: &Tensor,
    ) -> Tensor {
        let out = state.net.forward_t(x, true);
        match obj {
            Objective::Wfm => {
                let r = resized.get_or_init(|| self.resized(sources, &out.features));
                self.wfm_with(&state.matching, sources, r, &out.features)
            }
            Objective::Ce => cross_entropy(&out.logits, y),
        }
    }

    /// d(∇θ WFM(θ) · u)/dφ at the parameters `at` of `state`: the directional derivatives of
    /// the per-channel errors along u (forward mode), weighted by w and λ, differentiated to φ.
    fn meta_part_at(
        &self,
        state: &State,
        at: &[Tensor],
        sources: &[Vec<Tensor>],
        resized: &OnceCell<Vec<Vec<Tensor>>>,
        x: &Tensor,
        u: &[Tensor],
    ) -> Vec<Option<Tensor>> {
        let derivs: Vec<Vec<Tensor>> = with_dual_level(|level| {
            level.set_tangents(at, u);
            tch::no_grad(|| {
                let out = state.net.forward_t(x, true);
                let r = resized.get_or_init(|| self.resized(sources, &out.features));
                state
                    .matching
                    .iter()
                    .zip(r)
                    .map(|(m, r)| {
                        m.errors_of_resized(r, &out.features)
                            .iter()
                            .map(|e| level.tangent(e))
                            .collect()
                    })
                    .collect()
            })
        });
        let mixed = self
            .terms
            .iter()
            .zip(&derivs)
            .zip(sources)
            .map(|((t, d), s)| t.meta.weighted_loss_of_errors(d, s, self.cfg.beta))
            .reduce(|acc, t| acc + t)
            .expect("at least one source");
        Tensor::run_backward(&[&mixed], self.meta_params, false, false)
            .into_iter()
            .map(|g| g.defined().then_some(g))
            .collect()
    }

    /// The network and parameters look-ahead step `k` starts from: the live target for the
    /// first, replica k − 1 after.
    fn start_of<'b>(&'b self, k: usize, live: &'b [Tensor]) -> (State<'b>, &'b [Tensor]) {
        if k == 0 {
            (self.live(), live)
        } else {
            (self.replica(k - 1), &self.lookahead[k - 1].params)
        }
    }

    /// Takes the look-ahead steps (T on WFM, one on CE), each into its replica, and returns
    /// them as the meta-gradient needs them (with `record`) and the CE after them.
    fn lookahead_steps<'s>(
        &'s self,
        sgd: &Sgd,
        sources: &'s [Vec<Tensor>],
        x: &'s Tensor,
        y: &Tensor,
        record: bool,
    ) -> (Vec<Recorded<'s>>, Tensor) {
        let steps: Vec<Objective> = std::iter::repeat_n(Objective::Wfm, self.cfg.lookahead)
            .chain([Objective::Ce])
            .collect();
        assert!(
            self.lookahead.len() >= steps.len(),
            "the look-ahead needs {} replicas, it has {}",
            steps.len(),
            self.lookahead.len()
        );
        let live: Vec<Tensor> = sgd.params().iter().map(Tensor::shallow_clone).collect();
        let mut bufs: Vec<Option<Tensor>> = sgd
            .buffers()
            .iter()
            .map(|b| b.as_ref().map(Tensor::shallow_clone))
            .collect();
        let mut recorded = Vec::new();
        let resized = Rc::new(OnceCell::new());
        if let Some(r) = &self.resized {
            let _ = resized.set(
                r.iter()
                    .map(|m| m.iter().map(Tensor::shallow_clone).collect())
                    .collect(),
            );
        }
        let live = Rc::new(live);
        for (k, &obj) in steps.iter().enumerate() {
            let step = || {
                let (state, at) = self.start_of(k, &live);
                let loss = self.objective(&state, obj, sources, &resized, x, y);
                let into = &self.lookahead[k].params;
                // The first step (exact) or every step (first-order) needs no graph: its mixed
                // term comes from forward mode, and no Hessian goes through it.
                let graph = record && k > 0 && self.cfg.meta_gradient == MetaGradient::Exact;
                if !graph {
                    let g = grads_or_zero(&loss, at, false);
                    bufs = sgd.step_into(at, &bufs, &g, into);
                    if record {
                        recorded.push(match obj {
                            Objective::Wfm => {
                                let (live, resized) = (Rc::clone(&live), Rc::clone(&resized));
                                Recorded::MetaOnly(Box::new(move |u: &[Tensor]| {
                                    let (state, at) = self.start_of(k, &live);
                                    self.meta_part_at(&state, at, sources, &resized, x, u)
                                }))
                            }
                            Objective::Ce => Recorded::Linear,
                        });
                    }
                } else {
                    let (step, next) = sgd.graph_step_into(&loss, at, &bufs, into);
                    bufs = next;
                    recorded.push(step);
                }
            };
            phase(|| format!("look-ahead step {} ({obj})", k + 1), step);
        }
        let outer = phase(
            || "outer CE's forward".into(),
            || {
                let last = self.replica(steps.len() - 1);
                self.objective(&last, Objective::Ce, sources, &resized, x, y)
            },
        );
        (recorded, outer)
    }

    /// The CE after the look-ahead steps, the target's parameters, momentum and batch-norm
    /// statistics left as they were. (What the meta-gradient differentiates: useful for
    /// checking it numerically.)
    pub fn outer_after_lookahead(
        &self,
        sgd: &Sgd,
        sources: &[Vec<Tensor>],
        x: &Tensor,
        y: &Tensor,
    ) -> f64 {
        let saved = self.save_buffers();
        let (_, outer) = self.lookahead_steps(sgd, sources, x, y, false);
        self.restore_buffers(&saved);
        f64::try_from(&outer).unwrap_or(f64::NAN)
    }

    /// The meta-gradient d CE(after look-ahead) / d φ, exact to second order, and that CE; the
    /// target's parameters and momentum are left as they were before the look-ahead, its
    /// batch-norm statistics as the official loop leaves them (moved by the first look-ahead
    /// step's forward pass).
    pub fn meta_gradient(
        &self,
        sgd: &Sgd,
        sources: &[Vec<Tensor>],
        x: &Tensor,
        y: &Tensor,
    ) -> (Vec<Tensor>, f64) {
        let (recorded, outer) = self.lookahead_steps(sgd, sources, x, y, true);
        let after_lookahead = self.save_buffers();
        let outer_ce = f64::try_from(&outer).unwrap_or(f64::NAN);
        let last = &self.lookahead[recorded.len() - 1].params;
        let a0 = phase(
            || "outer CE's gradient".into(),
            || grads_or_zero(&outer, last, false),
        );
        let meta_grad = sgd.meta_backward(recorded, a0, self.meta_params);
        self.restore_buffers(&after_lookahead);
        (meta_grad, outer_ce)
    }
}
