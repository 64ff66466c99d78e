//! The report's PNG plots: `accuracy.png` (value against a numeric label, a line per method),
//! `paired.png` (the paired difference against the baseline, with its intervals) and
//! `learning-*.png` (training loss and validation accuracy over the epochs per x value, a line
//! per method with the seeds' spread), `lambda-map-*.png` (λ and w's entropy per pair after
//! training, per size and method) and `lambda.png` / `entropy.png` (λ and the entropy of w per
//! pair over the epochs). A plot without data is skipped with a note rather than drawn empty.

pub mod accuracy;
pub mod canvas;
pub mod curves;
pub mod lambda_map;
pub mod learning;
pub mod paired;

use crate::error::Result;
use crate::report::frame::{check_labels, Run};
use crate::report::paired::{baseline_of, paired};
use crate::report::series::{by_source, mean_curves, read_curves, Curves};
use crate::report::spec::{PlotSpec, ReportSpec};
use crate::report::table::pivot;
use crate::transfer::record::columns;
use lambda_map::lambda_maps;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What drawing produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plotted {
    /// The PNG files written.
    pub files: Vec<PathBuf>,
    /// Why a plot was skipped, one line each.
    pub notes: Vec<String>,
    /// Tables that go with the plots (λ by source), Markdown.
    pub markdown: String,
}

/// Draws every plot of `plot` into `dir`.
pub fn draw_plots(dir: &Path, runs: &[Run], spec: &ReportSpec, plot: &PlotSpec) -> Result<Plotted> {
    let mut out = Plotted::default();
    // The plots' table: the sweep's x by row, one line per column value.
    let table = ReportSpec {
        rows: vec![plot.x.clone()],
        cols: vec![plot.line.clone()],
        ..spec.clone()
    };
    let p = pivot(runs, &table)?;
    let path = dir.join("accuracy.png");
    accuracy::accuracy_png(&path, &p, &plot.x, &plot.line)?;
    out.files.push(path);
    out.files
        .extend(learning::learning_pngs(dir, runs, &p, &plot.x, &plot.line)?);
    let (maps, source_table) = lambda_maps(dir, runs, &p, &plot.x, &plot.line)?;
    out.files.extend(maps);
    out.markdown = source_table;
    match baseline_of(runs, &table)? {
        Some(baseline) => {
            let pd = paired(runs, &table, &baseline)?;
            if pd.cells.is_empty() && pd.unpaired > 0 {
                out.notes
                    .push("paired.png not drawn: no run has a baseline partner".to_string());
            } else if !pd.cells.is_empty() {
                let path = dir.join("paired.png");
                paired::paired_png(&path, &pd, &plot.x)?;
                out.files.push(path);
            }
        }
        None => out
            .notes
            .push("paired.png not drawn: the report has no baseline".to_string()),
    }

    let (chosen, what) = curve_runs(runs, spec, plot)?;
    for (prefix, file, symbol, y_desc) in [
        (
            columns::LAMBDA,
            "lambda.png",
            "λ",
            "λ (weight of the pair's transfer loss)",
        ),
        (
            columns::ENTROPY,
            "entropy.png",
            "entropy of w",
            "entropy of the channel weights w",
        ),
    ] {
        let mut all = Vec::new();
        for r in &chosen {
            all.push(read_curves(&r.at.dir.join("metrics.parquet"), prefix)?);
        }
        let curves = mean_curves(&all);
        if curves.is_empty() {
            out.notes.push(format!(
                "{file} not drawn: no `{prefix}*` columns in the metrics of {what}"
            ));
            continue;
        }
        let caption = format!("{symbol} per pair over the epochs: {what}");
        let path = dir.join(file);
        curves::curves_png(&path, &curves, &caption, y_desc)?;
        out.files.push(path);
        if prefix == columns::LAMBDA {
            let per_source = named_sources(by_source(&curves), &chosen);
            if per_source.columns.len() >= 2 {
                let path = dir.join("lambda-by-source.png");
                let caption = format!("λ per source (mean over its pairs): {what}");
                curves::curves_png(
                    &path,
                    &per_source,
                    &caption,
                    "λ (mean over the source's pairs)",
                )?;
                out.files.push(path);
            }
        }
    }
    Ok(out)
}

/// Source columns `s0`, `s1` named after the runs' `sources` label (`a+b` → `s0 a`, `s1 b`)
/// when every chosen run has the same one.
fn named_sources(mut c: Curves, runs: &[&Run]) -> Curves {
    let names = lambda_map::source_names(runs);
    if names.is_empty() {
        return c;
    }
    c.columns = c
        .columns
        .into_iter()
        .map(|(k, v)| {
            let i = k.strip_prefix('s').and_then(|i| i.parse::<usize>().ok());
            match i.and_then(|i| names.get(i)) {
                Some(n) => (format!("{k} {n}"), v),
                None => (k, v),
            }
        })
        .collect();
    c
}

/// The runs whose curves are drawn, and a description of them. With `plot.curves`: the runs
/// matching those label values. Without: the first run that has λ statistics, with the other
/// runs of its table cell (same values of the rows, cols, x and line labels).
fn curve_runs<'a>(
    runs: &'a [Run],
    spec: &ReportSpec,
    plot: &PlotSpec,
) -> Result<(Vec<&'a Run>, String)> {
    let filter: BTreeMap<String, String> = match &plot.curves {
        Some(f) => {
            let wanted: Vec<&str> = f.keys().map(String::as_str).collect();
            check_labels(runs, &wanted)?;
            f.clone()
        }
        None => {
            let mut first = None;
            for r in runs {
                let c: Curves = read_curves(&r.at.dir.join("metrics.parquet"), columns::LAMBDA)?;
                if !c.is_empty() {
                    first = Some(r);
                    break;
                }
            }
            let Some(first) = first else {
                return Ok((vec![], "any run".into()));
            };
            let keys = spec
                .rows
                .iter()
                .chain(&spec.cols)
                .chain([&plot.x, &plot.line]);
            keys.filter_map(|k| first.at.labels.get(k).map(|v| (k.clone(), v.clone())))
                .collect()
        }
    };
    let chosen: Vec<&Run> = runs
        .iter()
        .filter(|r| filter.iter().all(|(k, v)| r.label(k) == v))
        .collect();
    let labels: Vec<String> = filter.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let labels = if labels.is_empty() {
        "all runs".to_string()
    } else {
        labels.join(", ")
    };
    let what = match chosen.len() {
        0 => format!("no run ({labels})"),
        1 => format!("{labels} (1 run)"),
        n => format!("{labels} (mean of {n} runs)"),
    };
    Ok((chosen, what))
}
