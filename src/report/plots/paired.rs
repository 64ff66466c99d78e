//! `paired.png`: the paired difference against the baseline (run − baseline) by a numeric label,
//! one line per value of another label, with the 95 % t-interval as a bar and band at each x and
//! a line at 0: where a band leaves the zero line, the difference is significant.

use crate::error::Result;
use crate::report::paired::Paired;
use crate::report::plots::accuracy::{Lines, Point, XAxis};
use std::path::Path;

/// Draws `p` (rows: the x label's values, columns: the lines) into `path`.
pub fn paired_png(path: &Path, p: &Paired, x_label: &str) -> Result<()> {
    let xs: Vec<String> = p.rows.iter().map(|r| r.join(" / ")).collect();
    let axis = XAxis::new(&xs);
    let lines: Vec<(String, Vec<Point>)> = p
        .cols
        .iter()
        .map(|col| {
            let mut pts: Vec<Point> = p
                .rows
                .iter()
                .enumerate()
                .filter_map(|(i, row)| {
                    let c = p.get(row, col)?;
                    let (lo, hi) = c.interval.unwrap_or((c.mean, c.mean));
                    Some((axis.pos[i], c.mean, lo, hi))
                })
                .filter(|pt| pt.1.is_finite())
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            (col.join(" / "), pts)
        })
        .collect();
    Lines {
        axis: &axis,
        lines: &lines,
        caption: format!(
            "{} − baseline ({}) by {x_label}: mean, 95 % t-interval",
            p.spec.value.column(),
            p.baseline_text()
        ),
        x_label,
        y_desc: format!("difference in {}", p.spec.value.title()),
        zero_line: true,
    }
    .png(path)
}
