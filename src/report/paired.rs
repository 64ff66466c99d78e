//! Paired differences against a baseline: every run is paired with the baseline run that has
//! the same values of the labels the baseline runs vary over (normally the size and the seed),
//! and the differences of one value are reduced per table cell — by polars — to the mean, the
//! sample std and a 95 % Student-t interval (mean ± t₀.₉₇₅,ₙ₋₁·s/√n). A cell is significant when
//! its interval excludes 0. Runs with no baseline partner are left out and counted. Which
//! baselines a report compares with ([`baselines_of`], [`baseline_of`]) is settled here too.

use crate::error::{Error, Result};
use crate::report::frame::{check_labels, polars_error, Run};
use crate::report::order::{compare_keys, label_order};
use crate::report::spec::ReportSpec;
use crate::report::table::group_stats;
use polars::prelude::{Column, DataFrame};
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::collections::BTreeMap;

/// The runs the others are compared with: label values (`{method: scratch}`).
pub type Baseline = BTreeMap<String, String>;

/// One cell of the paired table.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedCell {
    /// The values of the row labels.
    pub row: Vec<String>,
    /// The values of the column labels.
    pub col: Vec<String>,
    /// Mean difference (run − baseline).
    pub mean: f64,
    /// Sample standard deviation of the differences; None when n < 2.
    pub std: Option<f64>,
    /// Number of pairs.
    pub n: usize,
    /// The 95 % t-interval; None when n < 2.
    pub interval: Option<(f64, f64)>,
}

impl PairedCell {
    /// Whether the interval excludes 0.
    pub fn significant(&self) -> bool {
        self.interval.is_some_and(|(lo, hi)| lo > 0.0 || hi < 0.0)
    }
}

/// The paired table.
#[derive(Debug, Clone, PartialEq)]
pub struct Paired {
    /// The table's rows, columns and value.
    pub spec: ReportSpec,
    /// What the runs are compared with.
    pub baseline: Baseline,
    /// The labels a run and its baseline partner share the values of.
    pub matched_on: Vec<String>,
    /// Row keys, in display order.
    pub rows: Vec<Vec<String>>,
    /// Column keys, in display order.
    pub cols: Vec<Vec<String>>,
    /// The cells that have at least one pair.
    pub cells: Vec<PairedCell>,
    /// Runs left out for want of a baseline partner.
    pub unpaired: usize,
}

impl Paired {
    /// The cell at `row` × `col`, if it has pairs.
    pub fn get(&self, row: &[String], col: &[String]) -> Option<&PairedCell> {
        self.cells.iter().find(|c| c.row == row && c.col == col)
    }

    /// The baseline as text (`method=scratch`).
    pub fn baseline_text(&self) -> String {
        baseline_text(&self.baseline)
    }
}

/// A baseline as text (`method=scratch`, labels joined by `, `).
pub fn baseline_text(b: &Baseline) -> String {
    b.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The baseline a report uses when it names none: `scratch` of its one column label, when some
/// run has it.
pub fn default_baseline(runs: &[Run], spec: &ReportSpec) -> Option<Baseline> {
    let [col] = spec.cols.as_slice() else {
        return None;
    };
    runs.iter()
        .any(|r| r.label(col) == "scratch")
        .then(|| Baseline::from([(col.clone(), "scratch".to_string())]))
}

/// The baseline of the paired table (the first, where the spec names several): the one the
/// spec names, or `scratch` of its one column label when some run has it; None for
/// `baseline: none` or when there is none to take.
pub fn baseline_of(runs: &[Run], spec: &ReportSpec) -> Result<Option<Baseline>> {
    Ok(baselines_of(runs, spec)?.into_iter().next())
}

/// Every baseline of the paired tables, in the order the spec names them (the default
/// `scratch` when it names none).
pub fn baselines_of(runs: &[Run], spec: &ReportSpec) -> Result<Vec<Baseline>> {
    match &spec.baseline {
        None => Ok(default_baseline(runs, spec).into_iter().collect()),
        Some(b) => b.resolve_all(&spec.cols).map_err(Error::Invalid),
    }
}

/// The half-width factor of a 95 % t-interval with `n` samples.
pub fn t_factor(n: usize) -> Option<f64> {
    if n < 2 {
        return None;
    }
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).ok()?;
    Some(t.inverse_cdf(0.975) / (n as f64).sqrt())
}

/// Every run paired with its baseline partner: the baseline run with the same values of the
/// labels the baseline runs vary over.
pub struct Partners<'r> {
    /// The labels a run and its partner share the values of.
    pub matched_on: Vec<String>,
    /// (run, its baseline partner), for every run that is not a baseline run and has one.
    pub pairs: Vec<(&'r Run, &'r Run)>,
    /// Runs left out for want of a partner.
    pub unpaired: usize,
}

/// Pairs every run that is not a baseline run with its partner (an error when no run has the
/// baseline's labels).
pub fn partners<'r>(runs: &'r [Run], baseline: &Baseline) -> Result<Partners<'r>> {
    let is_base = |r: &Run| baseline.iter().all(|(k, v)| r.label(k) == v);
    let bases: Vec<&Run> = runs.iter().filter(|r| is_base(r)).collect();
    if bases.is_empty() {
        return Err(Error::Invalid(format!(
            "no run has the baseline's labels {}",
            baseline_text(baseline)
        )));
    }
    // The labels the baseline runs vary over are what pairs a run with one of them.
    let names = crate::report::frame::label_names(runs);
    let matched_on: Vec<String> = names
        .into_iter()
        .filter(|l| !baseline.contains_key(l))
        .filter(|l| {
            let first = bases[0].label(l);
            bases.iter().any(|b| b.label(l) != first)
        })
        .collect();
    let key =
        |r: &Run| -> Vec<String> { matched_on.iter().map(|l| r.label(l).to_string()).collect() };
    let by_key: BTreeMap<Vec<String>, &Run> = bases.iter().map(|b| (key(b), *b)).collect();
    let mut pairs = Vec::new();
    let mut unpaired = 0;
    for r in runs.iter().filter(|r| !is_base(r)) {
        match by_key.get(&key(r)) {
            Some(b) => pairs.push((r, *b)),
            None => unpaired += 1,
        }
    }
    Ok(Partners {
        matched_on,
        pairs,
        unpaired,
    })
}

/// Pairs every run with its baseline partner and reduces the differences per cell.
pub fn paired(runs: &[Run], spec: &ReportSpec, baseline: &Baseline) -> Result<Paired> {
    let wanted: Vec<&str> = spec
        .rows
        .iter()
        .chain(&spec.cols)
        .chain(baseline.keys())
        .map(String::as_str)
        .collect();
    check_labels(runs, &wanted)?;
    let Partners {
        matched_on,
        pairs,
        unpaired,
    } = partners(runs, baseline)?;
    let keys: Vec<&String> = spec.rows.iter().chain(&spec.cols).collect();
    let mut label_cols: Vec<Vec<String>> = vec![Vec::new(); keys.len()];
    let mut diffs: Vec<f64> = Vec::new();
    for (r, b) in &pairs {
        for (c, k) in label_cols.iter_mut().zip(&keys) {
            c.push(r.label(k).to_string());
        }
        diffs.push(r.value(spec.value) - b.value(spec.value));
    }
    let mut cols: Vec<Column> = keys
        .iter()
        .zip(&label_cols)
        .map(|(k, v)| Column::new(k.as_str().into(), v.clone()))
        .collect();
    cols.push(Column::new("diff".into(), diffs.clone()));
    let df = DataFrame::new(diffs.len(), cols).map_err(polars_error)?;
    let key_names: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    let stats = if diffs.is_empty() {
        Vec::new()
    } else {
        group_stats(&df, &key_names, "diff")?
    };
    let order_of = |label: &String| label_order(runs, spec, label);
    let row_orders: Vec<Vec<String>> = spec.rows.iter().map(order_of).collect();
    let col_orders: Vec<Vec<String>> = spec.cols.iter().map(order_of).collect();
    let mut cells: Vec<PairedCell> = stats
        .into_iter()
        .map(|(key, s)| {
            let (row, col) = key.split_at(spec.rows.len());
            let std = s.std.filter(|_| s.n >= 2);
            let interval = std
                .zip(t_factor(s.n))
                .map(|(sd, f)| (s.mean - f * sd, s.mean + f * sd));
            PairedCell {
                row: row.to_vec(),
                col: col.to_vec(),
                mean: s.mean,
                std,
                n: s.n,
                interval,
            }
        })
        .collect();
    cells.sort_by(|a, b| {
        compare_keys(&a.row, &b.row, &row_orders).then(compare_keys(&a.col, &b.col, &col_orders))
    });
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut col_keys: Vec<Vec<String>> = Vec::new();
    for c in &cells {
        if !rows.contains(&c.row) {
            rows.push(c.row.clone());
        }
        if !col_keys.contains(&c.col) {
            col_keys.push(c.col.clone());
        }
    }
    col_keys.sort_by(|a, b| compare_keys(a, b, &col_orders));
    Ok(Paired {
        spec: spec.clone(),
        baseline: baseline.clone(),
        matched_on,
        rows,
        cols: col_keys,
        cells,
        unpaired,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::frame::tests::run;

    fn spec() -> ReportSpec {
        ReportSpec {
            rows: vec!["k".into()],
            cols: vec!["m".into()],
            ..ReportSpec::default()
        }
    }

    #[test]
    fn the_t_factor_is_students_quantile_over_root_n() {
        // t(0.975, 2) = 4.302653; t(0.975, 9) = 2.262157.
        assert!((t_factor(3).unwrap() - 4.302653 / 3f64.sqrt()).abs() < 1e-5);
        assert!((t_factor(10).unwrap() - 2.262157 / 10f64.sqrt()).abs() < 1e-5);
        assert_eq!(t_factor(1), None);
    }

    #[test]
    fn differences_are_paired_on_size_and_seed_and_reduced_per_cell() {
        let mut runs = Vec::new();
        for (seed, base, a) in [("0", 50.0, 60.0), ("1", 40.0, 52.0), ("2", 45.0, 53.0)] {
            runs.push(run(&[("k", "25"), ("m", "scratch"), ("seed", seed)], base));
            runs.push(run(&[("k", "25"), ("m", "a"), ("seed", seed)], a));
            // At another size the method is no better: differences 1, −1, 0.
            let d = [1.0, -1.0, 0.0][seed.parse::<usize>().unwrap()];
            runs.push(run(&[("k", "50"), ("m", "scratch"), ("seed", seed)], 70.0));
            runs.push(run(&[("k", "50"), ("m", "a"), ("seed", seed)], 70.0 + d));
        }
        let base = Baseline::from([("m".to_string(), "scratch".to_string())]);
        let p = paired(&runs, &spec(), &base).unwrap();
        assert_eq!(p.matched_on, ["k", "seed"]);
        let c = p.get(&["25".into()], &["a".into()]).unwrap();
        // Differences 10, 12, 8: mean 10, std 2, interval 10 ± 4.302653·2/√3.
        assert_eq!((c.mean, c.n), (10.0, 3));
        assert!((c.std.unwrap() - 2.0).abs() < 1e-12);
        let (lo, hi) = c.interval.unwrap();
        assert!((hi - lo - 2.0 * 4.302653 * 2.0 / 3f64.sqrt()).abs() < 1e-4);
        assert!(c.significant());
        let c = p.get(&["50".into()], &["a".into()]).unwrap();
        assert!(c.mean.abs() < 1e-12 && !c.significant());
        assert!(p.get(&["25".into()], &["scratch".into()]).is_none());
        assert_eq!(p.unpaired, 0);
    }

    #[test]
    fn a_baseline_in_another_row_pairs_on_the_seed_alone() {
        // Multi-source: the scratch runs have sources=none, the others their sources.
        let mut runs = Vec::new();
        for (seed, base, a) in [("0", 50.0, 40.0), ("1", 52.0, 41.0)] {
            runs.push(run(
                &[("sources", "none"), ("m", "scratch"), ("seed", seed)],
                base,
            ));
            runs.push(run(&[("sources", "x"), ("m", "l2t"), ("seed", seed)], a));
        }
        runs.push(run(&[("sources", "x"), ("m", "l2t"), ("seed", "9")], 1.0));
        let base = Baseline::from([("m".to_string(), "scratch".to_string())]);
        let spec = ReportSpec {
            rows: vec!["sources".into()],
            cols: vec!["m".into()],
            ..ReportSpec::default()
        };
        let p = paired(&runs, &spec, &base).unwrap();
        assert_eq!(p.matched_on, ["seed"]);
        let c = p.get(&["x".into()], &["l2t".into()]).unwrap();
        assert_eq!((c.mean, c.n), (-10.5, 2));
        assert_eq!(p.unpaired, 1);
    }

    #[test]
    fn a_baseline_no_run_has_is_an_error() {
        let runs = vec![run(&[("m", "a"), ("seed", "0")], 1.0)];
        let base = Baseline::from([("m".to_string(), "scratch".to_string())]);
        let spec = ReportSpec {
            cols: vec!["m".into()],
            ..ReportSpec::default()
        };
        let err = paired(&runs, &spec, &base).unwrap_err().to_string();
        assert!(err.contains("m=scratch"), "{err}");
        assert_eq!(default_baseline(&runs, &spec), None);
    }
}
