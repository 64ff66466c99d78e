//! Whether two L2T rows learned the same "where": every run with meta-networks is paired with
//! its baseline partner of the same replicate (as the paired differences pair them) and the
//! final λ of their pairs (validation-set means after the last epoch) are compared by Spearman's
//! rank correlation ρ (ties take their mean rank). A cheaper meta-gradient mode that learns what
//! the exact one learns ranks the pairs alike. ρ is undefined (shown as –) where either run's λ
//! are all equal or fewer than three pairs are shared.

use crate::error::Result;
use crate::report::csv::{number, CsvText};
use crate::report::frame::Run;
use crate::report::markdown::{escape, line};
use crate::report::order::{compare_keys, label_order};
use crate::report::paired::{baseline_text, partners, Baseline};
use crate::report::spec::ReportSpec;
use crate::transfer::record::columns::LAMBDA;
use std::collections::BTreeMap;

/// One replicate's comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Replicate {
    /// The values of the labels the run and its partner share (normally size and seed).
    pub key: Vec<String>,
    /// Spearman's ρ of the final λ per pair; None where undefined.
    pub rho: Option<f64>,
    /// Pairs compared.
    pub pairs: usize,
}

/// The replicates of one table cell (row × column key).
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementCell {
    /// The values of the row labels.
    pub row: Vec<String>,
    /// The values of the column labels.
    pub col: Vec<String>,
    /// One entry per replicate, in the order of their labels.
    pub replicates: Vec<Replicate>,
}

impl AgreementCell {
    /// The smallest defined ρ.
    pub fn min(&self) -> Option<f64> {
        self.replicates
            .iter()
            .filter_map(|r| r.rho)
            .reduce(f64::min)
    }
}

/// The agreement of every row's λ with the baseline's.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    /// What the runs are compared with.
    pub baseline: Baseline,
    /// The labels a run and its partner share the values of.
    pub matched_on: Vec<String>,
    /// The cells, in table order.
    pub cells: Vec<AgreementCell>,
}

/// A run's final λ per pair (the stat's name after the λ prefix), empty without meta-networks.
fn final_lambda(run: &Run) -> BTreeMap<&str, f64> {
    run.summary
        .epochs
        .last()
        .map(|e| {
            e.stats
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(LAMBDA).map(|p| (p, *v)))
                .collect()
        })
        .unwrap_or_default()
}

/// Ranks from 1, ties taking the mean of the ranks they span.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut out = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            out[k] = mean_rank;
        }
        i = j + 1;
    }
    out
}

/// Spearman's ρ: Pearson's correlation of the ranks. None for fewer than three values or when
/// either side is constant.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() || a.len() < 3 {
        return None;
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

/// The agreement with `baseline`; None when the baseline runs or the others have no λ.
pub fn agreement(
    runs: &[Run],
    spec: &ReportSpec,
    baseline: &Baseline,
) -> Result<Option<Agreement>> {
    let found = partners(runs, baseline)?;
    let order_of = |label: &String| label_order(runs, spec, label);
    let cell_orders: Vec<Vec<String>> = spec.rows.iter().chain(&spec.cols).map(order_of).collect();
    let replicate_orders: Vec<Vec<String>> = found.matched_on.iter().map(order_of).collect();
    let mut cells: Vec<AgreementCell> = Vec::new();
    for (run, base) in &found.pairs {
        let (mine, theirs) = (final_lambda(run), final_lambda(base));
        if mine.is_empty() || theirs.is_empty() {
            continue;
        }
        let (a, b): (Vec<f64>, Vec<f64>) = mine
            .iter()
            .filter_map(|(p, v)| theirs.get(p).map(|w| (*v, *w)))
            .unzip();
        let row: Vec<String> = spec.rows.iter().map(|l| run.label(l).to_string()).collect();
        let col: Vec<String> = spec.cols.iter().map(|l| run.label(l).to_string()).collect();
        let replicate = Replicate {
            key: found
                .matched_on
                .iter()
                .map(|l| run.label(l).to_string())
                .collect(),
            rho: spearman(&a, &b),
            pairs: a.len(),
        };
        match cells.iter_mut().find(|c| c.row == row && c.col == col) {
            Some(c) => c.replicates.push(replicate),
            None => cells.push(AgreementCell {
                row,
                col,
                replicates: vec![replicate],
            }),
        }
    }
    if cells.is_empty() {
        return Ok(None);
    }
    for c in &mut cells {
        c.replicates
            .sort_by(|a, b| compare_keys(&a.key, &b.key, &replicate_orders));
    }
    cells.sort_by(|a, b| {
        let ka: Vec<String> = a.row.iter().chain(&a.col).cloned().collect();
        let kb: Vec<String> = b.row.iter().chain(&b.col).cloned().collect();
        compare_keys(&ka, &kb, &cell_orders)
    });
    Ok(Some(Agreement {
        baseline: baseline.clone(),
        matched_on: found.matched_on,
        cells,
    }))
}

fn rho_text(rho: Option<f64>) -> String {
    rho.map_or_else(|| "–".to_string(), |r| format!("{r:.2}"))
}

/// The agreement as Markdown: one line per cell, ρ per replicate and their minimum.
pub fn agreement_markdown(spec: &ReportSpec, a: &Agreement) -> String {
    let replicates = if a.matched_on.is_empty() {
        "the one replicate".to_string()
    } else {
        format!("replicates by {}", a.matched_on.join(", "))
    };
    let base = escape(&baseline_text(&a.baseline));
    let mut out = format!(
        "**λ agreement with {base}**: Spearman's ρ between each pair's final λ and the same \
         replicate's {base} run ({replicates}); 1 = the pairs ranked alike, – = undefined \
         (constant λ).\n\n"
    );
    let mut head: Vec<String> = spec
        .rows
        .iter()
        .chain(&spec.cols)
        .map(|l| escape(l))
        .collect();
    head.extend(["ρ per replicate", "min", "pairs"].map(String::from));
    out.push_str(&line(&head));
    let lead = spec.rows.len() + spec.cols.len();
    let mut rule = vec!["---".to_string(); lead];
    rule.extend(["---", "---:", "---:"].map(String::from));
    out.push_str(&line(&rule));
    for c in &a.cells {
        let mut cells: Vec<String> = c.row.iter().chain(&c.col).map(|v| escape(v)).collect();
        let per: Vec<String> = c
            .replicates
            .iter()
            .map(|r| {
                let key = r.key.join("/");
                if key.is_empty() {
                    rho_text(r.rho)
                } else {
                    format!("{} ({})", rho_text(r.rho), escape(&key))
                }
            })
            .collect();
        cells.push(per.join(", "));
        cells.push(rho_text(c.min()));
        let pairs: Vec<usize> = c.replicates.iter().map(|r| r.pairs).collect();
        cells.push(match (pairs.iter().min(), pairs.iter().max()) {
            (Some(lo), Some(hi)) if lo != hi => format!("{lo}–{hi}"),
            (Some(n), _) => n.to_string(),
            _ => String::new(),
        });
        out.push_str(&line(&cells));
    }
    out
}

/// The agreements as tidy CSV: one row per replicate (None when there are none).
pub fn agreement_csv(spec: &ReportSpec, all: &[Agreement]) -> Option<String> {
    if all.is_empty() {
        return None;
    }
    let mut matched: Vec<String> = Vec::new();
    for a in all {
        for l in &a.matched_on {
            if !matched.contains(l) {
                matched.push(l.clone());
            }
        }
    }
    let mut header: Vec<String> = spec.rows.iter().chain(&spec.cols).cloned().collect();
    header.extend(matched.iter().cloned());
    header.extend(["baseline", "spearman_rho", "pairs"].map(String::from));
    let mut csv = CsvText::with_header(&header);
    for a in all {
        for c in &a.cells {
            for r in &c.replicates {
                let mut row: Vec<String> = c.row.iter().chain(&c.col).cloned().collect();
                row.extend(matched.iter().map(|l| {
                    a.matched_on
                        .iter()
                        .position(|m| m == l)
                        .map_or_else(String::new, |i| r.key[i].clone())
                }));
                row.push(baseline_text(&a.baseline));
                row.push(number(r.rho));
                row.push(r.pairs.to_string());
                csv.row(&row);
            }
        }
    }
    Some(csv.into_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::frame::tests::run;

    fn with_lambda(labels: &[(&str, &str)], lambda: &[f64]) -> Run {
        let mut r = run(labels, 50.0);
        let last = r.summary.epochs.last_mut().unwrap();
        for (i, v) in lambda.iter().enumerate() {
            last.stats.insert(format!("{LAMBDA}s0.{i}-0"), *v);
        }
        r
    }

    #[test]
    fn spearman_is_one_for_the_same_order_and_minus_one_for_the_reverse() {
        let a = [0.1, 0.5, 0.3, 2.0];
        assert!((spearman(&a, &[1.0, 3.0, 2.0, 9.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((spearman(&a, &[9.0, 2.0, 3.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(spearman(&a, &[1.0, 1.0, 1.0, 1.0]), None);
        assert_eq!(spearman(&a[..2], &[1.0, 2.0]), None);
    }

    #[test]
    fn ties_take_their_mean_rank() {
        assert_eq!(ranks(&[3.0, 0.0, 0.0, 1.0]), vec![4.0, 1.5, 1.5, 3.0]);
        // Textbook value: x = 1..5, y with one tie; ρ from the Pearson of the ranks.
        let rho = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 4.0, 5.0]).unwrap();
        let (rx, ry) = ([1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 1.0, 3.5, 3.5, 5.0]);
        let mean = 3.0;
        let sxy: f64 = rx
            .iter()
            .zip(&ry)
            .map(|(x, y)| (x - mean) * (y - mean))
            .sum();
        let sxx: f64 = rx.iter().map(|x| (x - mean) * (x - mean)).sum();
        let syy: f64 = ry.iter().map(|y| (y - mean) * (y - mean)).sum();
        assert!((rho - sxy / (sxx * syy).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn each_replicate_is_compared_with_its_own_baseline_run() {
        let runs = vec![
            with_lambda(&[("m", "exact"), ("seed", "0")], &[0.0, 1.0, 2.0, 3.0]),
            with_lambda(&[("m", "exact"), ("seed", "1")], &[3.0, 2.0, 1.0, 0.0]),
            // Seed 0 ranks like exact's seed 0; seed 1 also ranks like exact's seed 0, which is
            // the reverse of its own partner.
            with_lambda(&[("m", "cheap"), ("seed", "0")], &[0.1, 0.2, 0.3, 0.4]),
            with_lambda(&[("m", "cheap"), ("seed", "1")], &[0.1, 0.2, 0.3, 0.4]),
            run(&[("m", "scratch"), ("seed", "0")], 40.0),
        ];
        let spec = ReportSpec {
            cols: vec!["m".into()],
            ..ReportSpec::default()
        };
        let base = Baseline::from([("m".to_string(), "exact".to_string())]);
        let a = agreement(&runs, &spec, &base).unwrap().unwrap();
        assert_eq!(a.matched_on, vec!["seed".to_string()]);
        assert_eq!(a.cells.len(), 1, "scratch has no λ and is left out");
        let c = &a.cells[0];
        assert_eq!(c.col, vec!["cheap".to_string()]);
        let rho: Vec<Option<f64>> = c.replicates.iter().map(|r| r.rho).collect();
        assert_eq!(rho, vec![Some(1.0), Some(-1.0)]);
        assert_eq!(c.min(), Some(-1.0));
        let md = agreement_markdown(&spec, &a);
        assert!(md.contains("1.00 (0), -1.00 (1) | -1.00 | 4"), "{md}");
        let csv = agreement_csv(&spec, &[a]).unwrap();
        assert_eq!(csv.lines().count(), 3, "{csv}");
        assert!(
            csv.starts_with("m,seed,baseline,spearman_rho,pairs\n"),
            "{csv}"
        );
    }

    #[test]
    fn no_table_without_lambda() {
        let runs = vec![
            run(&[("m", "scratch"), ("seed", "0")], 40.0),
            run(&[("m", "fm"), ("seed", "0")], 45.0),
        ];
        let spec = ReportSpec {
            cols: vec!["m".into()],
            ..ReportSpec::default()
        };
        let base = Baseline::from([("m".to_string(), "scratch".to_string())]);
        assert_eq!(agreement(&runs, &spec, &base).unwrap(), None);
    }
}
