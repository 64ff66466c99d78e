//! `import`: an existing checkpoint (safetensors with the official parameter names, e.g. the
//! official TinyImageNet ResNet32, or torchvision ImageNet weights converted) checked against the
//! model zoo and copied into the cache as `model.safetensors`.

use super::{params_of, resolve_path, Ctx, External};
use crate::error::{Error, Result};
use crate::models::weights::WeightFile;
use crate::models::Arch;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::path::Path;

/// Parameters of an `import` stage.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImportParams {
    /// The checkpoint's path.
    pub checkpoint: String,
}

pub fn external(params: &Map<String, Value>, base: &Path) -> External {
    let mut ext = External::default();
    if let Some(Value::String(p)) = params.get("checkpoint") {
        ext.files.push(("checkpoint".into(), resolve_path(p, base)));
    }
    ext
}

pub fn run(ctx: &mut Ctx) -> Result<Value> {
    let p: ImportParams = params_of(ctx.job)?;
    let path = resolve_path(&p.checkpoint, &ctx.job.base);
    let file = WeightFile::read(&path)?;
    let (arch, classes) =
        Arch::infer(&file.tensors).map_err(|e| Error::bad_file(&path, e.to_string()))?;
    let dest = ctx.out.join("model.safetensors");
    std::fs::copy(&path, &dest).map_err(|e| Error::io(&dest, e))?;
    Ok(json!({"arch": arch.to_string(), "classes": classes}))
}
