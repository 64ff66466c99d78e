//! `import`: an existing checkpoint (safetensors with the official parameter names, e.g. the
//! official TinyImageNet ResNet32, or torchvision ImageNet weights converted) checked against the
//! model zoo and copied into the cache as `model.safetensors`.

use super::{resolve_path, External, FileParam, StageContext, StageKind};
use crate::error::{Error, Result};
use crate::models::weights::WeightFile;
use crate::models::Arch;
use crate::pipeline::kinds::{Param, Shape};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Parameters of an `import` stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImportParams {
    /// The checkpoint's path (absolute once planned).
    pub checkpoint: PathBuf,
}

/// The `import` kind.
pub struct ImportStage;

impl StageKind for ImportStage {
    type Params = ImportParams;
    const PARAMS: &'static [Param] = &[Param::new("checkpoint", Shape::Scalar)];

    fn resolve(p: &mut ImportParams, base: &Path) -> External {
        p.checkpoint = resolve_path(&p.checkpoint, base);
        External {
            files: vec![FileParam {
                name: "checkpoint".into(),
                param: vec!["checkpoint".into()],
                path: p.checkpoint.clone(),
            }],
            params: Vec::new(),
        }
    }

    fn run(p: &ImportParams, ctx: &mut StageContext) -> Result<Value> {
        let file = WeightFile::read(&p.checkpoint)?;
        let (arch, classes) = Arch::infer(&file.tensors)
            .map_err(|e| Error::bad_file(&p.checkpoint, e.to_string()))?;
        let dest = ctx.out.join("model.safetensors");
        std::fs::copy(&p.checkpoint, &dest).map_err(|e| Error::io(&dest, e))?;
        Ok(json!({"arch": arch.to_string(), "classes": classes}))
    }
}
