//! `source-stats`: a source network's pooled features on a dataset or subset split, each
//! channel's mean and std, and LogME per layer, through
//! [`crate::transfer::stats::compute_source_stats`]. The images are those of the split named by
//! `split` (default `train`) with the subset options a training stage has.

use super::train::checkpoint_of;
use super::{typed, Ctx};
use crate::device::DeviceChoice;
use crate::error::{Error, Result};
use crate::transfer::stats::{compute_source_stats, SourceStatsSpec};
use serde_json::{json, Map, Value};

/// The spec's own parameters: everything but `split`, with placeholder paths filled in.
fn spec_params(
    params: &Map<String, Value>,
    checkpoint: &str,
    data: &str,
    out: &str,
) -> Map<String, Value> {
    let mut p = params.clone();
    p.remove("split");
    p.insert("checkpoint".into(), json!(checkpoint));
    p.insert("data".into(), json!(data));
    p.insert("out".into(), json!(out));
    p
}

fn split(params: &Map<String, Value>) -> Result<String, (Vec<String>, String)> {
    match params.get("split") {
        None => Ok("train".into()),
        Some(Value::String(s)) if ["train", "val", "test"].contains(&s.as_str()) => Ok(s.clone()),
        Some(other) => Err((
            vec!["split".into()],
            format!("`split` is train, val or test, not {other}"),
        )),
    }
}

pub fn check(params: &Map<String, Value>) -> Result<(), (Vec<String>, String)> {
    split(params)?;
    typed::<SourceStatsSpec>(&spec_params(params, "x", "x", "x")).map(|_| ())
}

pub fn run(ctx: &mut Ctx) -> Result<Value> {
    let source = ctx.job.input("source")?;
    let data = ctx.job.input("data")?;
    let split = split(&ctx.job.params).map_err(|(_, m)| Error::Invalid(m))?;
    let ckpt = checkpoint_of(&source.kind, &source.dir);
    let file = data.dir.join(format!("{split}.parquet"));
    let params = spec_params(
        &ctx.job.params,
        &ckpt.to_string_lossy(),
        &file.to_string_lossy(),
        &ctx.out.to_string_lossy(),
    );
    let spec: SourceStatsSpec =
        typed(&params).map_err(|(_, m)| Error::Invalid(format!("{}: {m}", ctx.job.instance)))?;
    let device = ctx.job.device.parse::<DeviceChoice>()?.resolve()?;
    (ctx.progress)(0, 1, "features");
    let stats = compute_source_stats(&spec, device, tch::Kind::Float)?;
    (ctx.progress)(1, 1, "written");
    let ranking: Vec<Value> = stats
        .ranking()
        .iter()
        .map(|l| json!({"layer": l.layer, "logme": l.logme}))
        .collect();
    Ok(json!({"logme": ranking}))
}
