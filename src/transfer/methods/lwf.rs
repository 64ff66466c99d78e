//! `lwf`: Learning without Forgetting. The source network's outputs on the target's training
//! images are recorded once, before training; an old-task head on the target's pooled features
//! learns them as soft targets (temperature T) beside the new task: α · mean over the batch of
//! −Σ softmax(s/T) · log softmax(o/T).

use super::fm::state_tensor;
use super::BuildContext;
use crate::error::{Error, Result};
use crate::models::layers::linear;
use crate::models::Model;
use crate::transfer::engine::{BatchSource, Method, StepContext};
use std::collections::HashMap;
use tch::{nn, nn::VarStore, Tensor};

/// Learning without Forgetting from the first source.
pub struct Lwf {
    vs: VarStore,
    head: nn::Linear,
    temperature: f64,
    alpha: f64,
    rows: HashMap<i64, i64>,
    recorded: Option<Tensor>,
}

impl Lwf {
    /// An old-task head from the target's pooled features to the source's classes.
    pub fn new(ctx: &BuildContext, temperature: f64, alpha: f64) -> Result<Self> {
        let source = ctx
            .sources
            .first()
            .ok_or_else(|| Error::Invalid("lwf needs a source network".into()))?;
        let probe = Tensor::zeros([1, 3, ctx.input, ctx.input], (ctx.kind, ctx.device));
        let dim = tch::no_grad(|| ctx.target.net.forward_t(&probe, false))
            .pooled
            .size()[1];
        let mut vs = VarStore::new(ctx.device);
        let head = linear(vs.root() / "old_head", dim, source.net.num_classes());
        vs.set_kind(ctx.kind);
        Ok(Lwf {
            vs,
            head,
            temperature,
            alpha,
            rows: HashMap::new(),
            recorded: None,
        })
    }
}

impl Method for Lwf {
    fn name(&self) -> &str {
        "lwf"
    }

    fn prepare(
        &mut self,
        _target: &Model,
        sources: &[Model],
        train: &dyn BatchSource,
    ) -> Result<()> {
        let source = &sources[0];
        let mut outputs = Vec::new();
        for batch in train.batches(0) {
            let b = batch?;
            for &i in &b.idx {
                let next = self.rows.len() as i64;
                self.rows.entry(i).or_insert(next);
            }
            outputs.push(tch::no_grad(|| source.net.logits_t(&b.x, false)));
        }
        self.recorded = Some(Tensor::cat(&outputs, 0));
        Ok(())
    }

    fn trained_params(&self) -> Vec<(String, Tensor)> {
        self.vs.variables().into_iter().collect()
    }

    fn terms(&self, ctx: &StepContext) -> Vec<(String, Tensor)> {
        let Some(recorded) = &self.recorded else {
            return Vec::new();
        };
        let rows: Vec<i64> = ctx
            .idx
            .iter()
            .map(|i| self.rows.get(i).copied().unwrap_or(0))
            .collect();
        let soft =
            recorded.index_select(0, &Tensor::from_slice(&rows).to_device(recorded.device()));
        let t = self.temperature;
        let old = ctx.target.pooled.apply(&self.head);
        let p = (soft / t).softmax(-1, old.kind());
        let loss = -(p * (old / t).log_softmax(-1, None))
            .sum_dim_intlist(1, false, None)
            .mean(None)
            * self.alpha;
        vec![("lwf".to_string(), loss)]
    }

    fn state(&self) -> Vec<(String, Tensor)> {
        let mut rows: Vec<(i64, i64)> = self.rows.iter().map(|(&k, &v)| (k, v)).collect();
        rows.sort();
        let keys: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let vals: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let mut s = vec![
            ("lwf.keys".to_string(), Tensor::from_slice(&keys)),
            ("lwf.rows".to_string(), Tensor::from_slice(&vals)),
        ];
        if let Some(r) = &self.recorded {
            s.push(("lwf.recorded".to_string(), r.shallow_clone()));
        }
        s
    }

    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        let get = |n: &str| state_tensor(state, n);
        let (Some(keys), Some(rows), Some(rec)) =
            (get("lwf.keys"), get("lwf.rows"), get("lwf.recorded"))
        else {
            return Err(Error::Invalid(
                "checkpoint lacks LwF's recorded outputs".into(),
            ));
        };
        let keys = Vec::<i64>::try_from(keys)?;
        let rows = Vec::<i64>::try_from(rows)?;
        self.rows = keys.into_iter().zip(rows).collect();
        self.recorded = Some(rec.to_device(self.vs.device()));
        Ok(())
    }
}
