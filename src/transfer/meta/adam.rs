//! Adam with L2 weight decay (PyTorch's `optim.Adam`, not AdamW): the official meta optimizer.

use tch::Tensor;

/// Hyper-parameters of Adam.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// L2 weight decay added to the gradient.
    pub weight_decay: f64,
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to the denominator.
    pub eps: f64,
}

impl AdamConfig {
    /// PyTorch's defaults with the given learning rate and weight decay.
    pub fn new(lr: f64, weight_decay: f64) -> Self {
        AdamConfig {
            lr,
            weight_decay,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// Adam state over a fixed list of parameters.
pub struct Adam {
    /// Hyper-parameters.
    pub cfg: AdamConfig,
    params: Vec<Tensor>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    steps: u64,
}

impl Adam {
    /// An optimizer over `params`.
    pub fn new(params: Vec<Tensor>, cfg: AdamConfig) -> Self {
        let m = params.iter().map(|p| p.zeros_like().detach()).collect();
        let v = params.iter().map(|p| p.zeros_like().detach()).collect();
        Adam {
            cfg,
            params,
            m,
            v,
            steps: 0,
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The moment estimates (first, second), for checkpoints.
    pub fn moments(&self) -> (&[Tensor], &[Tensor]) {
        (&self.m, &self.v)
    }

    /// Restores moments and step count from a checkpoint.
    pub fn set_state(&mut self, m: Vec<Tensor>, v: Vec<Tensor>, steps: u64) {
        self.m = m;
        self.v = v;
        self.steps = steps;
    }

    /// One step with the given gradients (one per parameter).
    pub fn step(&mut self, grads: &[Tensor]) {
        let AdamConfig {
            lr,
            weight_decay,
            beta1,
            beta2,
            eps,
        } = self.cfg;
        self.steps += 1;
        let t = self.steps as i32;
        let (bc1, bc2) = (1.0 - beta1.powi(t), 1.0 - beta2.powi(t));
        tch::no_grad(|| {
            for (((p, g), m), v) in self
                .params
                .iter()
                .zip(grads)
                .zip(self.m.iter_mut())
                .zip(self.v.iter_mut())
            {
                let g = if weight_decay != 0.0 {
                    g + p * weight_decay
                } else {
                    g.shallow_clone()
                };
                *m = &*m * beta1 + &g * (1.0 - beta1);
                *v = &*v * beta2 + &g * &g * (1.0 - beta2);
                let denom = v.sqrt() / bc2.sqrt() + eps;
                let _ = p
                    .shallow_clone()
                    .f_sub_(&(&*m / denom * (lr / bc1)))
                    .expect("parameter update");
            }
        });
    }
}
