//! `report`: the runs of one or more `train` stages as tables (mean ± std over the labels not in
//! rows or columns — normally the seeds), CSV, plots, and the LogME ranking of `source-stats`
//! stages, through [`crate::report::render`]. `rows` and `cols` take one label or a list.

use super::{typed, Ctx};
use crate::error::{Error, Result};
use crate::report::{render, ReportSpec, RunRef};
use serde_json::{json, Map, Value};

/// `rows: per-class` is `rows: [per-class]`.
fn normalised(params: &Map<String, Value>) -> Map<String, Value> {
    let mut p = params.clone();
    for k in ["rows", "cols"] {
        if let Some(Value::String(s)) = p.get(k) {
            let v = Value::Array(vec![Value::String(s.clone())]);
            p.insert(k.to_string(), v);
        }
    }
    p
}

pub fn check(params: &Map<String, Value>) -> Result<(), (Vec<String>, String)> {
    typed::<ReportSpec>(&normalised(params)).map(|_| ())
}

pub fn run(ctx: &mut Ctx) -> Result<Value> {
    let spec: ReportSpec = typed(&normalised(&ctx.job.params))
        .map_err(|(_, msg)| Error::Invalid(format!("{}: {msg}", ctx.job.instance)))?;
    let runs: Vec<RunRef> = ctx
        .job
        .inputs
        .get("runs")
        .map(|v| {
            v.iter()
                .map(|r| RunRef {
                    labels: r.labels.iter().cloned().collect(),
                    dir: r.dir.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let logme: Vec<(String, std::path::PathBuf)> = ctx
        .job
        .inputs
        .get("logme")
        .map(|v| {
            v.iter()
                .map(|s| (s.instance.clone(), s.dir.join("logme.parquet")))
                .collect()
        })
        .unwrap_or_default();
    (ctx.progress)(0, 1, "tables and plots");
    let name = ctx
        .job
        .instance
        .split('[')
        .next()
        .unwrap_or("report")
        .to_string();
    let rendered = render(ctx.out, &name, &runs, &spec, &logme)?;
    for n in &rendered.notes {
        println!("note: {n}");
    }
    (ctx.progress)(1, 1, "written");
    Ok(
        json!({"runs": runs.len(), "files": rendered.files.iter().filter_map(|f| f.file_name()).map(|f| f.to_string_lossy().into_owned()).collect::<Vec<_>>()}),
    )
}
