//! SGD with momentum and weight decay as PyTorch computes it, with a tape of look-ahead steps
//! and the exact second-order meta-gradient through them (the official `MetaSGD` recursion).
//!
//! A parameter that an objective does not use takes a zero gradient, so weight decay and
//! momentum still move it: the behaviour of the official code, whose recursion assumes it.

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

/// SGD state over a fixed list of parameters.
pub struct Sgd {
    /// Hyper-parameters; `lr` may change between steps (schedules).
    pub cfg: SgdConfig,
    params: Vec<Tensor>,
    bufs: Vec<Option<Tensor>>,
}

/// Parameter values and momentum buffers at one moment, for roll-back.
pub struct SgdSnapshot {
    params: Vec<Tensor>,
    bufs: Vec<Option<Tensor>>,
}

/// The look-ahead steps taken since [`Sgd::begin_lookahead`]: the parameters before each step
/// and what was optimised at it.
pub struct Tape<K> {
    start: SgdSnapshot,
    steps: Vec<(Vec<Tensor>, K)>,
}

fn copy_all(dst: &[Tensor], src: &[Tensor]) {
    tch::no_grad(|| {
        for (d, s) in dst.iter().zip(src) {
            d.shallow_clone().copy_(s);
        }
    });
}

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
        let SgdConfig {
            lr,
            momentum,
            weight_decay,
            nesterov,
        } = self.cfg;
        tch::no_grad(|| {
            for ((p, g), buf) in self.params.iter().zip(grads).zip(self.bufs.iter_mut()) {
                let mut d = if weight_decay != 0.0 {
                    g + p * weight_decay
                } else {
                    g.shallow_clone()
                };
                if momentum != 0.0 {
                    let b = match buf.take() {
                        None => d.copy(),
                        Some(b) => b * momentum + &d,
                    };
                    d = if nesterov {
                        d + &b * momentum
                    } else {
                        b.shallow_clone()
                    };
                    *buf = Some(b);
                }
                let _ = p
                    .shallow_clone()
                    .f_sub_(&(d * lr))
                    .expect("parameter update");
            }
        });
    }

    /// A copy of the current parameters and buffers.
    pub fn snapshot(&self) -> SgdSnapshot {
        SgdSnapshot {
            params: self.params.iter().map(|p| p.detach().copy()).collect(),
            bufs: self
                .bufs
                .iter()
                .map(|b| b.as_ref().map(Tensor::copy))
                .collect(),
        }
    }

    /// Returns parameters and buffers to a snapshot.
    pub fn restore(&mut self, snap: &SgdSnapshot) {
        copy_all(&self.params, &snap.params);
        self.bufs = snap
            .bufs
            .iter()
            .map(|b| b.as_ref().map(Tensor::copy))
            .collect();
    }

    /// Starts recording look-ahead steps; the state now is where [`Sgd::rollback`] returns.
    pub fn begin_lookahead<K>(&self) -> Tape<K> {
        Tape {
            start: self.snapshot(),
            steps: Vec::new(),
        }
    }

    /// Takes a recorded step: `grads` are the gradients of the objective `kind` at the current
    /// parameters.
    pub fn record_step<K>(&mut self, tape: &mut Tape<K>, kind: K, grads: &[Tensor]) {
        let before = if tape.steps.is_empty() {
            tape.start
                .params
                .iter()
                .map(Tensor::shallow_clone)
                .collect()
        } else {
            self.params.iter().map(|p| p.detach().copy()).collect()
        };
        tape.steps.push((before, kind));
        self.step(grads);
    }

    /// The meta-gradient: back-propagates `outer_grads` (d outer / d params after the last
    /// recorded step) through every recorded step, exactly to second order including momentum
    /// and weight decay, and returns d outer / d `meta` (zeros where unused). `objective(kind)`
    /// must recompute the step's loss at the current parameters with a graph to `meta`.
    /// The parameters are left as they were before the first recorded step only after
    /// [`Sgd::rollback`].
    pub fn meta_backward<K>(
        &mut self,
        tape: &Tape<K>,
        outer_grads: Vec<Tensor>,
        meta: &[Tensor],
        mut objective: impl FnMut(&K) -> Tensor,
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
        let n = self.params.len();
        for (k, (before, kind)) in tape.steps.iter().enumerate().rev() {
            copy_all(&self.params, before);
            let loss = objective(kind);
            let g = Tensor::run_backward(&[&loss], &self.params, true, true);
            let mut x: Option<Tensor> = None;
            for ((g, a0), a1) in g.iter().zip(&a0).zip(&a1) {
                if g.defined() {
                    let term = (g * (a0 * -lr + a1)).sum(g.kind());
                    x = Some(match x {
                        None => term,
                        Some(acc) => acc + term,
                    });
                }
            }
            let Some(x) = x else { continue };
            // At the first recorded step only the meta-gradient is still needed: differentiating
            // X with respect to the parameters (the Hessian part) would be wasted work.
            let first = k == 0;
            let inputs: Vec<&Tensor> = if first {
                meta.iter().collect()
            } else {
                self.params.iter().chain(meta).collect()
            };
            let hv = Tensor::run_backward(&[&x], &inputs, false, false);
            let meta_part = if first { &hv[..] } else { &hv[n..] };
            for (acc, d) in meta_grad.iter_mut().zip(meta_part) {
                if d.defined() {
                    *acc = &*acc + d;
                }
            }
            if first {
                break;
            }
            let (next0, next1): (Vec<Tensor>, Vec<Tensor>) = (0..n)
                .map(|i| {
                    let mut na0 = &a0[i] * (1.0 - lr * weight_decay) + &a1[i] * weight_decay;
                    if hv[i].defined() {
                        na0 += &hv[i];
                    }
                    let na1 = &a1[i] * momentum - &a0[i] * (lr * momentum);
                    (na0.detach(), na1.detach())
                })
                .unzip();
            a0 = next0;
            a1 = next1;
        }
        meta_grad
    }

    /// Returns to the state before the first recorded step (parameters and buffers).
    pub fn rollback<K>(&mut self, tape: Tape<K>) {
        self.restore(&tape.start);
    }
}
