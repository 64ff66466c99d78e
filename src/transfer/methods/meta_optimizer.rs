//! The optimizer of the L2T meta-networks: Adam (the official one, PyTorch's `optim.Adam` with L2
//! weight decay) or SGD with the target's momentum; its step, and its state in a checkpoint
//! (`adam.m.{i}`, `adam.v.{i}`, `adam.steps`; `metasgd.buf.{i}`), i indexing the parameters in
//! the order they were given.

use super::fm::state_tensor;
use crate::error::{Error, Result};
use crate::transfer::meta::{Adam, AdamConfig, Sgd, SgdConfig};
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

/// The optimizer of the meta-networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MetaOptimizerKind {
    /// Adam (the official default).
    #[default]
    Adam,
    /// SGD with the target's momentum.
    Sgd,
}

/// An optimizer over the meta-networks' parameters.
pub enum MetaOptimizer {
    /// Adam.
    Adam(Adam),
    /// SGD with momentum.
    Sgd(Sgd),
}

fn missing(name: &str) -> Error {
    Error::Invalid(format!("checkpoint lacks `method.{name}`"))
}

impl MetaOptimizer {
    /// A `kind` optimizer over `params` with learning rate `lr` and weight decay `wd`
    /// (`momentum` for SGD).
    pub fn new(
        kind: MetaOptimizerKind,
        params: Vec<Tensor>,
        lr: f64,
        wd: f64,
        momentum: f64,
    ) -> Self {
        match kind {
            MetaOptimizerKind::Adam => {
                MetaOptimizer::Adam(Adam::new(params, AdamConfig::new(lr, wd)))
            }
            MetaOptimizerKind::Sgd => MetaOptimizer::Sgd(Sgd::new(
                params,
                SgdConfig {
                    lr,
                    momentum,
                    weight_decay: wd,
                    nesterov: false,
                },
            )),
        }
    }

    /// One step with the meta-gradient `grad` (one tensor per parameter).
    pub fn step(&mut self, grad: &[Tensor]) {
        match self {
            MetaOptimizer::Adam(a) => a.step(grad),
            MetaOptimizer::Sgd(s) => s.step(grad),
        }
    }

    /// The optimizer's state for a checkpoint, by name.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut s = Vec::new();
        match self {
            MetaOptimizer::Adam(a) => {
                let (m, v) = a.moments();
                for (i, (m, v)) in m.iter().zip(v).enumerate() {
                    s.push((format!("adam.m.{i}"), m.shallow_clone()));
                    s.push((format!("adam.v.{i}"), v.shallow_clone()));
                }
                s.push(("adam.steps".into(), Tensor::from(a.steps() as i64)));
            }
            MetaOptimizer::Sgd(o) => {
                for (i, b) in o.buffers().iter().enumerate() {
                    if let Some(b) = b {
                        s.push((format!("metasgd.buf.{i}"), b.shallow_clone()));
                    }
                }
            }
        }
        s
    }

    /// Restores what [`MetaOptimizer::state`] returned, for `n` parameters, onto `device`.
    pub fn load_state(
        &mut self,
        state: &[(String, Tensor)],
        n: usize,
        device: Device,
    ) -> Result<()> {
        let get = |k: &str| state_tensor(state, k).map(|t| t.to_device(device));
        match self {
            MetaOptimizer::Adam(a) => {
                let grab = |k: String| get(&k).ok_or_else(|| missing(&k));
                let m = (0..n)
                    .map(|i| grab(format!("adam.m.{i}")))
                    .collect::<Result<_>>()?;
                let v = (0..n)
                    .map(|i| grab(format!("adam.v.{i}")))
                    .collect::<Result<_>>()?;
                let steps =
                    state_tensor(state, "adam.steps").ok_or_else(|| missing("adam.steps"))?;
                let steps = i64::try_from(steps)?;
                a.set_state(m, v, steps as u64);
            }
            MetaOptimizer::Sgd(o) => {
                o.set_buffers((0..n).map(|i| get(&format!("metasgd.buf.{i}"))).collect())
            }
        }
        Ok(())
    }
}
