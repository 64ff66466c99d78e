//! `report`: the runs of one or more `train` stages as tables (mean ± std over the labels not in
//! rows or columns — normally the seeds), CSV, plots, and the LogME ranking of `source-stats`
//! stages, through [`crate::report::render`]. `rows` and `cols` take one label or a list. Every
//! label the report names (rows, cols, order, baseline, plot) is checked against the labels of
//! the planned runs, so a report that could not be drawn fails before any training.

use super::{Inputs, StageContext, StageKind};
use crate::error::Result;
use crate::pipeline::kinds::{Kind, Merge, Param, Shape};
use crate::report::{render_titled, BaselineSpec, ReportSpec, RunRef, Value as Column};
use crate::yaml::FieldError;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The `report` kind.
pub struct ReportStage;

/// The labels of the planned runs: each name with the values it takes.
struct RunLabels(BTreeMap<String, BTreeSet<String>>);

impl RunLabels {
    fn name(&self, path: &[&str], label: &str) -> Result<(), FieldError> {
        if self.0.contains_key(label) {
            return Ok(());
        }
        let have: Vec<&str> = self.0.keys().map(String::as_str).collect();
        let hint = crate::pipeline::spec::nearest(label, have.iter().copied())
            .map(|n| format!("did you mean `{n}`? "))
            .unwrap_or_default();
        Err(FieldError::at(
            path,
            format!(
                "no run of `runs` carries the label `{label}`; {hint}their labels: {} (a label \
                 comes from a swept parameter, e.g. `method: [scratch, fm]`)",
                if have.is_empty() {
                    "none".to_string()
                } else {
                    have.join(", ")
                }
            ),
        ))
    }

    fn value(&self, path: &[&str], label: &str, value: &str) -> Result<(), FieldError> {
        self.name(path, label)?;
        let values = &self.0[label];
        if values.contains(value) {
            return Ok(());
        }
        let list: Vec<&str> = values.iter().map(String::as_str).collect();
        Err(FieldError::at(
            path,
            format!(
                "no run has `{label}={value}`; its values: {}",
                list.join(", ")
            ),
        ))
    }
}

impl StageKind for ReportStage {
    type Params = ReportSpec;
    const PARAMS: &'static [Param] = &[
        Param::input("runs", Shape::InputAll, &[Kind::Train]),
        Param::input("logme", Shape::InputAll, &[Kind::SourceStats]),
        Param::new("rows", Shape::Fixed),
        Param::new("cols", Shape::Fixed),
        Param::new("value", Shape::Fixed),
        Param::new("order", Shape::Fixed).merged(Merge::Fields),
        Param::new("baseline", Shape::Fixed),
        Param::new("replicates", Shape::Fixed),
        Param::new("plot", Shape::Fixed).merged(Merge::Fields),
    ];

    fn normalise(raw: &mut Map<String, Value>) {
        for k in ["rows", "cols"] {
            if let Some(Value::String(s)) = raw.get(k) {
                let v = Value::Array(vec![Value::String(s.clone())]);
                raw.insert(k.to_string(), v);
            }
        }
    }

    fn check_inputs(p: &ReportSpec, inputs: &Inputs) -> Result<(), FieldError> {
        let mut labels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in inputs.of("runs") {
            for (k, v) in r.labels {
                labels.entry(k.clone()).or_default().insert(v.clone());
            }
        }
        if let Some(clash) = labels
            .keys()
            .find(|n| Column::ALL.iter().any(|v| v.column() == n.as_str()) || *n == "dir")
        {
            return Err(FieldError::at(
                &["runs"],
                format!(
                    "the run label `{clash}` has the name of a report column; rename the label"
                ),
            ));
        }
        let l = RunLabels(labels);
        for (field, names) in [("rows", &p.rows), ("cols", &p.cols)] {
            for (i, n) in names.iter().enumerate() {
                l.name(&[field, &i.to_string()], n)?;
            }
        }
        for k in p.order.keys() {
            l.name(&["order", k], k)?;
        }
        let written: Vec<(Vec<String>, &BaselineSpec)> = match &p.baseline {
            Some(BaselineSpec::List(list)) => list
                .iter()
                .enumerate()
                .map(|(i, b)| (vec!["baseline".to_string(), i.to_string()], b))
                .collect(),
            Some(b) => vec![(vec!["baseline".to_string()], b)],
            None => Vec::new(),
        };
        for (path, b) in written {
            let at: Vec<&str> = path.iter().map(String::as_str).collect();
            match b {
                BaselineSpec::Labels(m) => {
                    for (k, v) in m {
                        let mut at = at.clone();
                        at.push(k);
                        l.value(&at, k, v)?;
                    }
                }
                BaselineSpec::Value(v) if v == "none" => {}
                BaselineSpec::Value(_) => match b.resolve(&p.cols) {
                    Ok(m) => {
                        for (k, v) in m.iter().flatten() {
                            l.value(&at, k, v)?;
                        }
                    }
                    Err(msg) => return Err(FieldError::at(&at, msg)),
                },
                BaselineSpec::List(_) => {
                    return Err(FieldError::at(
                        &at,
                        crate::report::spec::NESTED_BASELINE_LIST,
                    ))
                }
            }
        }
        if let Some(plot) = &p.plot {
            l.name(&["plot", "x"], &plot.x)?;
            l.name(&["plot", "line"], &plot.line)?;
            for (k, v) in plot.curves.iter().flatten() {
                l.value(&["plot", "curves", k], k, v)?;
            }
        }
        Ok(())
    }

    fn run(spec: &ReportSpec, ctx: &mut StageContext) -> Result<Value> {
        let runs: Vec<RunRef> = ctx
            .inputs_of("runs")
            .iter()
            .map(|r| RunRef {
                labels: r.labels.iter().cloned().collect(),
                dir: r.dir.clone(),
                provenance: provenance(&r.instance, &r.dir),
            })
            .collect();
        let logme: Vec<(String, std::path::PathBuf)> = ctx
            .inputs_of("logme")
            .iter()
            .map(|s| (s.instance.clone(), s.dir.join("logme.parquet")))
            .collect();
        (ctx.progress)(0, 1, "tables and plots");
        let title = format!("{}: {}", ctx.pipeline, ctx.stage);
        let rendered = render_titled(ctx.out, ctx.stage, &title, &runs, spec, &logme)?;
        for n in &rendered.notes {
            println!("note: {n}");
        }
        (ctx.progress)(1, 1, "written");
        let files: Vec<String> = rendered
            .files
            .iter()
            .filter_map(|f| f.file_name())
            .map(|f| f.to_string_lossy().into_owned())
            .collect();
        Ok(json!({"runs": runs.len(), "files": files}))
    }
}

/// Where a run came from, from its cache entry's manifest (the entry holding its `out/`
/// folder): instance, key, versions, device, threads, start time and wall time. What the
/// manifest lacks is left out.
fn provenance(instance: &str, out: &std::path::Path) -> BTreeMap<String, String> {
    let mut p = BTreeMap::from([("instance".to_string(), instance.to_string())]);
    let Some(entry) = crate::cache::Entry::owning(out) else {
        return p;
    };
    p.insert("key".to_string(), entry.key.to_string());
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(match n.as_f64() {
            Some(x) if x.fract() != 0.0 => format!("{x:.1}"),
            _ => n.to_string(),
        }),
        _ => None,
    };
    let meta = entry.meta();
    for (k, v) in [
        ("l2tww", &meta["versions"]["l2tww"]),
        ("torch", &meta["versions"]["torch"]),
        ("device", &meta["device"]),
        ("threads", &meta["threads"]),
        ("started", &meta["started"]),
        ("seconds", &meta["seconds"]),
    ] {
        if let Some(t) = text(v) {
            p.insert(k.to_string(), t);
        }
    }
    p
}
