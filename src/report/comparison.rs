//! The paired table and the meta-networks' movement as Markdown and tidy CSV: the same figures
//! in both. A paired cell reads `+12.30 [+5.10, +19.50] (3)`, in bold when its 95 % interval
//! excludes 0; a movement cell reads `0.08 ± 0.02 · 0.97 (3)` (mean |Δλ| · entropy of w over its
//! initial value).

use crate::report::csv::{number, CsvText};
use crate::report::markdown::{escape, label_text, line};
use crate::report::movement::MovementCell;
use crate::report::paired::{Paired, PairedCell};
use crate::report::spec::ReportSpec;

fn signed(x: f64, d: usize) -> String {
    format!("{x:+.d$}")
}

/// One paired cell's text.
pub fn paired_cell_text(c: &PairedCell, d: usize) -> String {
    let body = match c.interval {
        Some((lo, hi)) => format!(
            "{} [{}, {}] ({})",
            signed(c.mean, d),
            signed(lo, d),
            signed(hi, d),
            c.n
        ),
        None => format!("{} ({})", signed(c.mean, d), c.n),
    };
    if c.significant() {
        format!("**{body}**")
    } else {
        body
    }
}

fn table_grid<C>(
    spec: &ReportSpec,
    rows: &[Vec<String>],
    cols: &[Vec<String>],
    get: impl Fn(&[String], &[String]) -> Option<C>,
    text: impl Fn(&C) -> String,
) -> String {
    let mut head: Vec<String> = spec.rows.iter().map(|r| escape(r)).collect();
    if head.is_empty() {
        head.push(String::new());
    }
    let lead = head.len();
    let col_keys: Vec<Vec<String>> = if cols.is_empty() {
        vec![vec![]]
    } else {
        cols.to_vec()
    };
    head.extend(col_keys.iter().map(|c| {
        if c.is_empty() {
            spec.value.column().to_string()
        } else {
            escape(&c.join(" / "))
        }
    }));
    let mut out = line(&head);
    let mut rule = vec!["---".to_string(); lead];
    rule.extend(vec!["---:".to_string(); head.len() - lead]);
    out.push_str(&line(&rule));
    let row_keys: Vec<Vec<String>> = if rows.is_empty() {
        vec![vec![]]
    } else {
        rows.to_vec()
    };
    for row in &row_keys {
        let mut fields: Vec<String> = if row.is_empty() {
            vec!["all".into()]
        } else {
            row.iter().map(|v| label_text(v)).collect()
        };
        for col in &col_keys {
            fields.push(get(row, col).map_or("—".into(), |c| text(&c)));
        }
        out.push_str(&line(&fields));
    }
    out
}

/// The Markdown of a paired table, with the line that says what it compares.
pub fn paired_markdown(p: &Paired) -> String {
    let v = p.spec.value;
    let on = if p.matched_on.is_empty() {
        "one baseline run".to_string()
    } else {
        p.matched_on
            .iter()
            .map(|l| format!("`{l}`"))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let mut out = format!(
        "**Paired difference** of {} against `{}` (run − baseline, pairs matched on {on}): \
         mean [95 % t-interval] (pairs); **bold** where the interval excludes 0.",
        v.column(),
        p.baseline_text()
    );
    if p.unpaired > 0 {
        out.push_str(&format!(
            " {} run(s) without a baseline partner left out.",
            p.unpaired
        ));
    }
    out.push_str("\n\n");
    out.push_str(&table_grid(
        &p.spec,
        &p.rows,
        &p.cols,
        |r, c| p.get(r, c).cloned(),
        |c| paired_cell_text(c, v.decimals()),
    ));
    out
}

/// The paired tables (one per baseline, all of one report) as one tidy CSV: row and column
/// labels, baseline, mean, std, n, the interval's ends and whether it excludes 0. None without
/// tables.
pub fn paired_csv(all: &[Paired]) -> Option<String> {
    let p = all.first()?;
    let mut header: Vec<String> = p.spec.rows.iter().chain(&p.spec.cols).cloned().collect();
    header.extend(
        [
            "value",
            "baseline",
            "mean_diff",
            "std",
            "n",
            "ci95_low",
            "ci95_high",
            "significant",
        ]
        .map(String::from),
    );
    let mut csv = CsvText::with_header(&header);
    for p in all {
        for c in &p.cells {
            let mut row: Vec<String> = c.row.iter().chain(&c.col).cloned().collect();
            row.push(p.spec.value.column().to_string());
            row.push(p.baseline_text());
            row.push(number(Some(c.mean)));
            row.push(number(c.std));
            row.push(c.n.to_string());
            row.push(number(c.interval.map(|i| i.0)));
            row.push(number(c.interval.map(|i| i.1)));
            row.push(c.significant().to_string());
            csv.row(&row);
        }
    }
    Some(csv.into_string())
}

fn mean_std(ms: (f64, Option<f64>), d: usize) -> String {
    match ms.1 {
        Some(s) => format!("{:.d$} ± {s:.d$}", ms.0),
        None => format!("{:.d$}", ms.0),
    }
}

/// The Markdown of the meta-networks' movement (empty text when no run has meta-networks).
pub fn movement_markdown(spec: &ReportSpec, cells: &[MovementCell]) -> String {
    if cells.is_empty() {
        return String::new();
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut cols: Vec<Vec<String>> = Vec::new();
    for c in cells {
        if !rows.contains(&c.row) {
            rows.push(c.row.clone());
        }
        if !cols.contains(&c.col) {
            cols.push(c.col.clone());
        }
    }
    let mut out = String::from(
        "**Meta-networks after training**: mean |Δλ| from the initial λ (over the pairs, \
         validation-set means) · entropy of w over its initial value (1 = w never left uniform); \
         mean ± std over the runs (n).\n\n",
    );
    out.push_str(&table_grid(
        spec,
        &rows,
        &cols,
        |r, c| cells.iter().find(|x| x.row == r && x.col == c).cloned(),
        |c| {
            format!(
                "{} · {} ({})",
                mean_std(c.lambda_shift, 3),
                mean_std(c.entropy_ratio, 3),
                c.n
            )
        },
    ));
    out
}

/// The movement as tidy CSV.
pub fn movement_csv(spec: &ReportSpec, cells: &[MovementCell]) -> String {
    let mut header: Vec<String> = spec.rows.iter().chain(&spec.cols).cloned().collect();
    header.extend(
        [
            "lambda_shift",
            "lambda_shift_std",
            "w_entropy_ratio",
            "w_entropy_ratio_std",
            "n",
        ]
        .map(String::from),
    );
    let mut csv = CsvText::with_header(&header);
    for c in cells {
        let mut row: Vec<String> = c.row.iter().chain(&c.col).cloned().collect();
        row.push(number(Some(c.lambda_shift.0)));
        row.push(number(c.lambda_shift.1));
        row.push(number(Some(c.entropy_ratio.0)));
        row.push(number(c.entropy_ratio.1));
        row.push(c.n.to_string());
        csv.row(&row);
    }
    csv.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_significant_cell_is_bold_and_signed() {
        let c = PairedCell {
            row: vec![],
            col: vec![],
            mean: 10.0,
            std: Some(2.0),
            n: 3,
            interval: Some((5.03, 14.97)),
        };
        assert_eq!(paired_cell_text(&c, 2), "**+10.00 [+5.03, +14.97] (3)**");
        let c = PairedCell {
            interval: Some((-1.0, 3.0)),
            mean: 1.0,
            ..c
        };
        assert_eq!(paired_cell_text(&c, 1), "+1.0 [-1.0, +3.0] (3)");
    }
}
