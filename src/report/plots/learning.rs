//! Learning curves: for each value of the plot's x label (the samples per class), the training
//! loss and the validation accuracy over the epochs, one line per value of the line label (the
//! method) — the mean over the runs there (the seeds), with a band and bars from their min to
//! their max. Files `learning-<x>-<value>-train_loss.png` and `…-val_acc.png`.

use crate::error::Result;
use crate::report::frame::Run;
use crate::report::plots::accuracy::{Lines, Point, XAxis};
use crate::report::series::read_curves;
use crate::report::table::Pivot;
use crate::transfer::record::columns;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The two curves drawn per x value: the metrics column (also the file name's suffix) and what
/// y is.
const METRICS: [(&str, &str); 2] = [
    (
        columns::TRAIN_LOSS,
        "training loss (mean over the epoch's batches)",
    ),
    (columns::VAL_ACC, "validation accuracy (%)"),
];

/// Draws the learning curves of `runs` into `dir`, rows and lines in the order of `p` (the
/// pivot of x × line); returns the files written.
pub fn learning_pngs(
    dir: &Path,
    runs: &[Run],
    p: &Pivot,
    x_label: &str,
    line_label: &str,
) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for row in &p.rows {
        let x_value = row.join(" / ");
        for (metric, y_desc) in METRICS {
            let mut lines: Vec<(String, Vec<Point>)> = Vec::new();
            let mut epochs_seen: Vec<u64> = Vec::new();
            for col in &p.cols {
                let chosen: Vec<&Run> = runs
                    .iter()
                    .filter(|r| {
                        r.label(x_label) == x_value && col.iter().all(|c| r.label(line_label) == c)
                    })
                    .collect();
                if chosen.is_empty() {
                    continue;
                }
                let mut per_epoch: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
                for r in &chosen {
                    let c = read_curves(&r.at.dir.join("metrics.parquet"), metric)?;
                    let Some(values) = c.columns.get("") else {
                        continue;
                    };
                    for (e, v) in c.epochs.iter().zip(values) {
                        if let Some(v) = v.filter(|v| v.is_finite()) {
                            per_epoch.entry(*e).or_default().push(v);
                        }
                    }
                }
                let pts: Vec<Point> = per_epoch
                    .iter()
                    .map(|(e, vs)| {
                        let mean = vs.iter().sum::<f64>() / vs.len() as f64;
                        let lo = vs.iter().copied().fold(f64::INFINITY, f64::min);
                        let hi = vs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        (*e as f64, mean, lo, hi)
                    })
                    .collect();
                epochs_seen.extend(per_epoch.keys());
                if !pts.is_empty() {
                    lines.push((format!("{} ({})", col.join(" / "), chosen.len()), pts));
                }
            }
            if lines.is_empty() {
                continue;
            }
            epochs_seen.sort_unstable();
            epochs_seen.dedup();
            let ticks: Vec<String> = epochs_seen.iter().map(u64::to_string).collect();
            let axis = XAxis::new(&ticks);
            let chart = Lines {
                axis: &axis,
                lines: &lines,
                caption: format!(
                    "{metric} over the epochs, {x_label} = {x_value}: mean, min–max over the runs (n)"
                ),
                x_label: "epoch",
                y_desc: y_desc.to_string(),
                zero_line: false,
            };
            let path = dir.join(format!(
                "learning-{}-{}-{metric}.png",
                file_part(x_label),
                file_part(&x_value)
            ));
            chart.png(&path)?;
            files.push(path);
        }
    }
    Ok(files)
}

/// A label or value as part of a file name (letters, digits, `-`, `_`, `.`; others as `_`).
pub(crate) fn file_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
