//! Markdown text of a pivot (a header line saying the value, the aggregation and what it runs
//! over, then the table) and of a LogME ranking. A cell reads `mean ± std (n)`; the sample std
//! is shown only when n ≥ 2 (`mean (1)` otherwise), and an empty cell is `—`.

use crate::report::logme::Ranked;
use crate::report::table::{Cell, Pivot};

/// The Markdown of a pivot table.
pub fn pivot_markdown(p: &Pivot) -> String {
    let spec = &p.spec;
    let mut out = String::new();
    out.push_str(&header_line(p));
    out.push_str("\n\n");
    let col_names: Vec<String> = if spec.cols.is_empty() {
        vec![spec.value.column().to_string()]
    } else {
        p.cols.iter().map(|c| escape(&c.join(" / "))).collect()
    };
    let mut head: Vec<String> = spec.rows.iter().map(|r| escape(r)).collect();
    if head.is_empty() {
        head.push(String::new());
    }
    let lead = head.len();
    head.extend(col_names);
    out.push_str(&line(&head));
    let mut rule: Vec<String> = vec!["---".into(); lead];
    rule.extend(vec!["---:".to_string(); head.len() - lead]);
    out.push_str(&line(&rule));
    let all_rows = if spec.rows.is_empty() {
        vec![vec![]]
    } else {
        p.rows.clone()
    };
    let all_cols = if spec.cols.is_empty() {
        vec![vec![]]
    } else {
        p.cols.clone()
    };
    for row in &all_rows {
        let mut fields: Vec<String> = if row.is_empty() {
            vec!["all".into()]
        } else {
            row.iter().map(|v| label_text(v)).collect()
        };
        for col in &all_cols {
            fields.push(match p.get(row, col) {
                Some(c) => cell_text(c, spec.value.decimals()),
                None => "—".into(),
            });
        }
        out.push_str(&line(&fields));
    }
    out
}

/// The line above the table: value, aggregation, and the labels aggregated over.
pub fn header_line(p: &Pivot) -> String {
    let v = p.spec.value;
    let over = if p.over.is_empty() {
        "over the runs of each cell".to_string()
    } else {
        let parts: Vec<String> = p
            .over
            .iter()
            .map(|(label, values)| format!("`{label}` ∈ {{{}}}", values.join(", ")))
            .collect();
        let over = format!("over {}", parts.join(" and "));
        match &p.spec.replicates {
            Some(what) => {
                let n: usize = p.over.values().map(|v| v.len()).product();
                format!("{over}: {n} replicates, each a different {what}")
            }
            None => over,
        }
    };
    format!(
        "**{}** ({}): mean ± sample std (n − 1) {over}; (n) = runs per cell, std shown when n ≥ 2.",
        v.column(),
        v.title()
    )
}

/// One cell's text.
pub fn cell_text(c: &Cell, decimals: usize) -> String {
    match c.std {
        Some(s) => format!("{:.*} ± {:.*} ({})", decimals, c.mean, decimals, s, c.n),
        None => format!("{:.*} ({})", decimals, c.mean, c.n),
    }
}

/// The Markdown of a LogME ranking.
pub fn logme_markdown(ranked: &[Ranked]) -> String {
    let mut out = String::from("**LogME** of each source layer on the target, highest first.\n\n");
    out.push_str(&line(
        &["source", "layer", "LogME", "rank"].map(String::from),
    ));
    out.push_str(&line(&["---", "---", "---:", "---:"].map(String::from)));
    for r in ranked {
        out.push_str(&line(&[
            escape(&r.source),
            escape(&r.layer),
            format!("{:.4}", r.logme),
            r.rank.to_string(),
        ]));
    }
    out
}

pub(crate) fn label_text(v: &str) -> String {
    if v.is_empty() {
        "—".into()
    } else {
        escape(v)
    }
}

pub(crate) fn line(fields: &[String]) -> String {
    format!("| {} |\n", fields.join(" | "))
}

/// Escapes the table separator in text.
pub(crate) fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(std: Option<f64>, n: usize) -> Cell {
        Cell {
            row: vec![],
            col: vec![],
            mean: 41.234,
            std,
            n,
            min: 0.0,
            max: 0.0,
        }
    }

    #[test]
    fn a_cell_shows_the_std_only_from_two_runs_on() {
        assert_eq!(cell_text(&cell(Some(0.5), 3), 2), "41.23 ± 0.50 (3)");
        assert_eq!(cell_text(&cell(None, 1), 2), "41.23 (1)");
    }

    #[test]
    fn pipes_in_labels_are_escaped() {
        assert_eq!(escape("a|b"), "a\\|b");
    }

    #[test]
    fn the_logme_table_lists_rank_and_score() {
        let r = Ranked {
            source: "resnet32".into(),
            layer: "blocks2".into(),
            logme: 1.23456,
            rank: 1,
        };
        let md = logme_markdown(&[r]);
        assert!(md.contains("| resnet32 | blocks2 | 1.2346 | 1 |"), "{md}");
    }
}
