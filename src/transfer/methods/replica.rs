//! A copy of the trained state — the target network and each source's 1×1 convs — that one
//! L2T-ww look-ahead step writes its parameters into. Because every step has its own leaves,
//! the graph of a step's gradient stays valid after the next step, the meta-gradient reuses it
//! instead of recomputing the step, and the live network never needs rolling back.

use super::feature_matching::FeatureMatching;
use crate::error::{Error, Result};
use crate::models::{Model, Network};
use std::collections::HashMap;
use tch::{nn::VarStore, Tensor};

/// The target network and 1×1 convs of one look-ahead step.
pub struct Replica {
    /// The network (same architecture and variable names as the target).
    pub net: Box<dyn Network>,
    /// One set of 1×1 convs per source.
    pub matching: Vec<FeatureMatching>,
    /// The replica's variable for each original variable, by the original's data pointer.
    copies: HashMap<usize, Tensor>,
}

impl Replica {
    /// A replica from its parts: `stores[i]` holds the copies of the variables of
    /// `originals[i]`, under the same names.
    pub fn new(
        net: Box<dyn Network>,
        matching: Vec<FeatureMatching>,
        stores: &[VarStore],
        originals: &[&VarStore],
    ) -> Self {
        let mut copies = HashMap::new();
        for (orig, mine) in originals.iter().zip(stores) {
            let mine = mine.variables();
            for (name, t) in orig.variables() {
                if let Some(m) = mine.get(&name) {
                    copies.insert(t.data_ptr() as usize, m.shallow_clone());
                }
            }
        }
        Replica {
            net,
            matching,
            copies,
        }
    }

    /// A replica of a model and of the 1×1 convs `matching`, each set of which lives in the
    /// store of the same index in `matching_stores`.
    pub fn of_model(
        model: &Model,
        matching: &[&FeatureMatching],
        matching_stores: &[&VarStore],
    ) -> Result<Self> {
        let device = model.vs.device();
        let kind = model
            .vs
            .trainable_variables()
            .first()
            .map_or(tch::Kind::Float, Tensor::kind);
        let mut vs = VarStore::new(device);
        let net = model.arch.build(&vs.root(), model.net.num_classes())?;
        vs.set_kind(kind);
        let mut stores = vec![vs];
        let mut copies = Vec::new();
        for m in matching {
            let mut bvs = VarStore::new(device);
            copies.push(m.replicate(&bvs));
            bvs.set_kind(kind);
            stores.push(bvs);
        }
        let originals: Vec<&VarStore> = std::iter::once(&model.vs)
            .chain(matching_stores.iter().copied())
            .collect();
        Ok(Replica::new(net, copies, &stores, &originals))
    }

    /// The replica's parameters in the order of `order` (the optimizer's parameters).
    pub fn aligned(&self, order: &[Tensor]) -> Result<Vec<Tensor>> {
        order
            .iter()
            .map(|p| {
                self.copies
                    .get(&(p.data_ptr() as usize))
                    .map(Tensor::shallow_clone)
                    .ok_or_else(|| {
                        Error::Invalid(format!(
                            "a trained parameter of shape {:?} has no copy in the look-ahead replica",
                            p.size()
                        ))
                    })
            })
            .collect()
    }
}
