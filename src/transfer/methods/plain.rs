//! The methods without a transfer term: `scratch` (the target alone) and `finetune` (the target
//! initialised from the source's weights wherever names and shapes agree, the classifier of
//! another class count left fresh).

use crate::error::{Error, Result};
use crate::models::Model;
use crate::transfer::engine::{BatchSource, Method};

/// Training from scratch.
pub struct Scratch;

impl Method for Scratch {
    fn name(&self) -> &str {
        "scratch"
    }
}

/// Fine-tuning from the (first) source network.
pub struct Finetune;

impl Method for Finetune {
    fn name(&self) -> &str {
        "finetune"
    }

    fn prepare(
        &mut self,
        target: &Model,
        sources: &[Model],
        _train: &dyn BatchSource,
    ) -> Result<()> {
        let source = sources
            .first()
            .ok_or_else(|| Error::Invalid("finetune needs a source network".into()))?;
        if source.arch != target.arch {
            return Err(Error::Invalid(format!(
                "finetune needs the same architecture for source and target (source {}, target {})",
                source.arch, target.arch
            )));
        }
        let from = source.vs.variables();
        tch::no_grad(|| {
            for (name, var) in target.vs.variables() {
                if let Some(src) = from.get(&name).filter(|s| s.size() == var.size()) {
                    var.shallow_clone().copy_(&src.to_kind(var.kind()));
                }
            }
        });
        Ok(())
    }
}
