//! SGD with momentum and weight decay as PyTorch computes it; look-ahead steps that write into
//! other leaves (so each step's graph stays valid and nothing needs rolling back), and the exact
//! second-order meta-gradient through them (the official `MetaSGD` recursion).
//!
//! A parameter that an objective does not use takes a zero gradient, so weight decay and
//! momentum still move it: the behaviour of the official code, whose recursion assumes it.

use crate::transfer::phases::phase;
use tch::Tensor;

/// Hyper-parameters of the SGD optimizer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdConfig {
    /// Learning rate.
    pub lr: f64,
    /// Momentum (0 for none).
    pub momentum: f64,
    /// L2 weight decay added to the gradient.
    pub weight_decay: f64,
    /// Nesterov momentum (plain steps only: the meta-gradient recursion assumes heavy-ball).
    pub nesterov: bool,
}

impl SgdConfig {
    /// The step direction for parameter `p` with gradient `g` and momentum buffer `buf` (None
    /// before its first step), and the new buffer (None without momentum), as PyTorch's SGD:
    /// d = g + wd·p; b = μ·b + d (b = d at first); the direction is b, or d + μ·b with Nesterov.
    fn direction(&self, p: &Tensor, g: &Tensor, buf: Option<&Tensor>) -> (Tensor, Option<Tensor>) {
        // Sums are built in place on fresh products (x + y and y + x round alike): the same
        // numbers as the textbook expressions with fewer fresh tensors.
        let d = if self.weight_decay != 0.0 {
            let mut d = p * self.weight_decay;
            d += g;
            d
        } else {
            g.shallow_clone()
        };
        if self.momentum == 0.0 {
            return (d, None);
        }
        let b = match buf {
            None => d.copy(),
            Some(b) => {
                let mut b = b * self.momentum;
                b += &d;
                b
            }
        };
        let dir = if self.nesterov {
            d + &b * self.momentum
        } else {
            b.shallow_clone()
        };
        (dir, Some(b))
    }
}

/// SGD state over a fixed list of parameters.
pub struct Sgd {
    /// Hyper-parameters; `lr` may change between steps (schedules).
    pub cfg: SgdConfig,
    params: Vec<Tensor>,
    bufs: Vec<Option<Tensor>>,
}

/// A recorded look-ahead step, as the meta-gradient differentiates it.
pub enum Recorded<'a> {
    /// The step's gradient, computed with a graph to the parameters it was taken at (`at`,
    /// leaves nothing modifies afterwards) and to the meta-parameters; None where a parameter
    /// does not enter the objective.
    Graph {
        /// The gradient, one entry per parameter.
        grads: Vec<Option<Tensor>>,
        /// The parameters the gradient was taken at.
        at: Vec<Tensor>,
    },
    /// A step whose Hessian is left out (the first step, or every step of a first-order
    /// meta-gradient): only d(g·u)/dφ, a function from u (one tensor per parameter) to that
    /// (one per meta-parameter, None where φ does not enter).
    MetaOnly(MetaPart<'a>),
    /// A step that does not depend on φ and whose Hessian is left out (the CE step of a
    /// first-order meta-gradient): the adjoint passes through its weight decay and momentum.
    Linear,
}

/// The mixed term of a first step: u ↦ d(∇θ L · u)/dφ.
pub type MetaPart<'a> = Box<dyn FnOnce(&[Tensor]) -> Vec<Option<Tensor>> + 'a>;

/// Gradients of `loss` with respect to `params`; an unused parameter gets zeros.
pub fn grads_or_zero(loss: &Tensor, params: &[Tensor], create_graph: bool) -> Vec<Tensor> {
    Tensor::run_backward(&[loss], params, create_graph, create_graph)
        .into_iter()
        .zip(params)
        .map(|(g, p)| if g.defined() { g } else { p.zeros_like() })
        .collect()
}

impl Sgd {
    /// An optimizer over `params` (leaf tensors that require grad).
    pub fn new(params: Vec<Tensor>, cfg: SgdConfig) -> Self {
        let bufs = params.iter().map(|_| None).collect();
        Sgd { cfg, params, bufs }
    }

    /// The parameters, in the order gradients are expected.
    pub fn params(&self) -> &[Tensor] {
        &self.params
    }

    /// The momentum buffers (None before a parameter's first step).
    pub fn buffers(&self) -> &[Option<Tensor>] {
        &self.bufs
    }

    /// Restores momentum buffers (e.g. from a checkpoint).
    pub fn set_buffers(&mut self, bufs: Vec<Option<Tensor>>) {
        assert_eq!(bufs.len(), self.params.len(), "one buffer per parameter");
        self.bufs = bufs;
    }

    /// One step with the given gradients (one per parameter, detached).
    pub fn step(&mut self, grads: &[Tensor]) {
        let lr = self.cfg.lr;
        tch::no_grad(|| {
            for ((p, g), buf) in self.params.iter().zip(grads).zip(self.bufs.iter_mut()) {
                let (dir, b) = self.cfg.direction(p, g, buf.as_ref());
                *buf = b;
                let _ = p
                    .shallow_clone()
                    .f_sub_(&(dir * lr))
                    .expect("parameter update");
            }
        });
    }

    /// One look-ahead step from the parameters `from` with momentum `bufs` and gradients `grads`
    /// into the leaves `into`; the optimizer's own parameters and buffers are left alone.
    /// Returns the new momentum. Heavy-ball only: the meta-gradient's recursion assumes it.
    pub fn step_into(
        &self,
        from: &[Tensor],
        bufs: &[Option<Tensor>],
        grads: &[Tensor],
        into: &[Tensor],
    ) -> Vec<Option<Tensor>> {
        assert!(
            !self.cfg.nesterov,
            "look-ahead steps use heavy-ball momentum"
        );
        tch::no_grad(|| {
            from.iter()
                .zip(bufs)
                .zip(grads)
                .zip(into)
                .map(|(((p, b), g), dst)| {
                    let p = p.detach();
                    let (dir, b) = self.cfg.direction(&p, &g.detach(), b.as_ref());
                    let mut dst = dst.shallow_clone();
                    dst.copy_(&p);
                    dst -= dir * self.cfg.lr;
                    b
                })
                .collect()
        })
    }

    /// A look-ahead step on `loss`, a function of the parameters `at`, into the leaves `into`,
    /// its gradient kept with a graph for the meta-gradient. Returns the step as recorded and
    /// the new momentum.
    pub fn graph_step_into<'a>(
        &self,
        loss: &Tensor,
        at: &[Tensor],
        bufs: &[Option<Tensor>],
        into: &[Tensor],
    ) -> (Recorded<'a>, Vec<Option<Tensor>>) {
        let grads: Vec<Option<Tensor>> = Tensor::run_backward(&[loss], at, true, true)
            .into_iter()
            .map(|g| g.defined().then_some(g))
            .collect();
        let flat: Vec<Tensor> = grads
            .iter()
            .zip(at)
            .map(|(g, p)| g.as_ref().map_or_else(|| p.zeros_like(), Tensor::detach))
            .collect();
        let bufs = self.step_into(at, bufs, &flat, into);
        let at = at.iter().map(Tensor::shallow_clone).collect();
        (Recorded::Graph { grads, at }, bufs)
    }

    /// The meta-gradient: back-propagates `outer_grads` (d outer / d parameters after the last
    /// step) through the recorded steps, exactly to second order including momentum and weight
    /// decay, and returns d outer / d `meta` (zeros where unused).
    ///
    /// With u = −lr·a₀ + a₁ the adjoint of a step's momentum (a₀ of the parameters after it,
    /// a₁ of its momentum), a step contributes d(g·u)/dφ to the result and, unless it is the
    /// first, passes on a₀ ← a₀(1 − lr·wd) + wd·a₁ + H·u and a₁ ← μ·a₁ − lr·μ·a₀, where H·u
    /// = d(g·u)/dθ comes from the step's graph (left out for `MetaOnly` and `Linear` steps).
    pub fn meta_backward(
        &self,
        steps: Vec<Recorded>,
        outer_grads: Vec<Tensor>,
        meta: &[Tensor],
    ) -> Vec<Tensor> {
        let SgdConfig {
            lr,
            momentum,
            weight_decay,
            ..
        } = self.cfg;
        let mut a0 = outer_grads;
        let mut a1: Vec<Tensor> = a0.iter().map(Tensor::zeros_like).collect();
        let mut meta_grad: Vec<Tensor> = meta.iter().map(|m| m.zeros_like().detach()).collect();
        let add = |meta_grad: &mut Vec<Tensor>, parts: &[Tensor]| {
            for (acc, d) in meta_grad.iter_mut().zip(parts) {
                if d.defined() {
                    *acc = &*acc + d;
                }
            }
        };
        for (k, step) in steps.into_iter().enumerate().rev() {
            let u: Vec<Tensor> = a0
                .iter()
                .zip(&a1)
                .map(|(a0, a1)| {
                    let mut u = a0.detach() * -lr;
                    u += a1;
                    u
                })
                .collect();
            let hv = match step {
                Recorded::MetaOnly(part) => {
                    let parts: Vec<Tensor> = phase(
                        || format!("mixed term of step {} (forward mode)", k + 1),
                        || part(&u),
                    )
                    .into_iter()
                    .map(|d| d.unwrap_or_else(Tensor::new))
                    .collect();
                    add(&mut meta_grad, &parts);
                    if k == 0 {
                        break;
                    }
                    Vec::new()
                }
                Recorded::Linear if k == 0 => break,
                Recorded::Linear => Vec::new(),
                Recorded::Graph { grads, at } => {
                    // At the first step only the meta-gradient is still needed: the Hessian
                    // part would be wasted work.
                    let first = k == 0;
                    let hvp = || {
                        let x = grads
                            .iter()
                            .zip(&u)
                            .filter_map(|(g, u)| g.as_ref().map(|g| (g * u).sum(g.kind())))
                            .reduce(|acc, t| acc + t);
                        match x {
                            Some(x) if x.requires_grad() => {
                                let inputs: Vec<&Tensor> = if first {
                                    meta.iter().collect()
                                } else {
                                    at.iter().chain(meta).collect()
                                };
                                Tensor::run_backward(&[&x], &inputs, false, false)
                            }
                            _ => Vec::new(),
                        }
                    };
                    let hv = phase(|| format!("Hessian-vector product of step {}", k + 1), hvp);
                    let n = if first { 0 } else { at.len() };
                    if hv.len() > n {
                        add(&mut meta_grad, &hv[n..]);
                    }
                    if first {
                        break;
                    }
                    hv
                }
            };
            // a0 ← a0·(1 − lr·wd) + a1·wd + H·u and a1 ← a1·μ − a0·lr·μ in place: the same
            // operations in the same order (so the same numbers), two fresh tensors instead of
            // six per parameter.
            tch::no_grad(|| {
                for (i, (a0, a1)) in a0.iter_mut().zip(a1.iter_mut()).enumerate() {
                    let lr_mu_a0 = &*a0 * (lr * momentum);
                    let wd_a1 = &*a1 * weight_decay;
                    *a0 *= 1.0 - lr * weight_decay;
                    *a0 += &wd_a1;
                    if let Some(h) = hv.get(i).filter(|h| h.defined()) {
                        *a0 += h;
                    }
                    *a1 *= momentum;
                    *a1 -= &lr_mu_a0;
                }
            });
        }
        meta_grad
    }
}
