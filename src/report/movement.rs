//! How far the meta-networks of L2T runs moved, per table cell: the mean over the runs of
//! |λ − λ before training| (averaged over the pairs, after the last epoch) and of the entropy of
//! w after the last epoch as a fraction of its value before training (w starts uniform, so 1
//! means w never moved). Runs without meta-networks are left out.

use crate::error::Result;
use crate::report::frame::{polars_error, Run};
use crate::report::order::{compare_keys, label_order};
use crate::report::spec::ReportSpec;
use crate::report::table::group_stats;
use polars::prelude::{Column, DataFrame};

/// One cell: the runs of one row × column key that have meta-networks.
#[derive(Debug, Clone, PartialEq)]
pub struct MovementCell {
    /// The values of the row labels.
    pub row: Vec<String>,
    /// The values of the column labels.
    pub col: Vec<String>,
    /// Mean and sample std (n ≥ 2) of the runs' mean |Δλ|.
    pub lambda_shift: (f64, Option<f64>),
    /// Mean and sample std of the runs' final entropy of w over its initial entropy.
    pub entropy_ratio: (f64, Option<f64>),
    /// Number of runs.
    pub n: usize,
}

/// The cells of the runs that have meta-networks, in table order (empty when none has).
pub fn movement(runs: &[Run], spec: &ReportSpec) -> Result<Vec<MovementCell>> {
    let keys: Vec<&String> = spec.rows.iter().chain(&spec.cols).collect();
    let mut label_cols: Vec<Vec<String>> = vec![Vec::new(); keys.len()];
    let (mut shift, mut ratio) = (Vec::new(), Vec::new());
    for r in runs {
        let Some(m) = r.summary.final_movement() else {
            continue;
        };
        for (c, k) in label_cols.iter_mut().zip(&keys) {
            c.push(r.label(k).to_string());
        }
        shift.push(m.lambda_shift);
        ratio.push(if m.w_entropy_init > 0.0 {
            m.w_entropy / m.w_entropy_init
        } else {
            f64::NAN
        });
    }
    if shift.is_empty() {
        return Ok(Vec::new());
    }
    let mut cols: Vec<Column> = keys
        .iter()
        .zip(&label_cols)
        .map(|(k, v)| Column::new(k.as_str().into(), v.clone()))
        .collect();
    cols.push(Column::new("lambda_shift".into(), shift.clone()));
    cols.push(Column::new("entropy_ratio".into(), ratio));
    let df = DataFrame::new(shift.len(), cols).map_err(polars_error)?;
    let names: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    let shifts = group_stats(&df, &names, "lambda_shift")?;
    let ratios = group_stats(&df, &names, "entropy_ratio")?;
    let order_of = |label: &String| label_order(runs, spec, label);
    let orders: Vec<Vec<String>> = keys.iter().map(|k| order_of(k)).collect();
    let mut cells: Vec<MovementCell> = shifts
        .into_iter()
        .zip(ratios)
        .map(|((key, s), (_, e))| {
            let (row, col) = key.split_at(spec.rows.len());
            MovementCell {
                row: row.to_vec(),
                col: col.to_vec(),
                lambda_shift: (s.mean, s.std.filter(|_| s.n >= 2)),
                entropy_ratio: (e.mean, e.std.filter(|_| e.n >= 2)),
                n: s.n,
            }
        })
        .collect();
    cells.sort_by(|a, b| {
        let ka: Vec<String> = a.row.iter().chain(&a.col).cloned().collect();
        let kb: Vec<String> = b.row.iter().chain(&b.col).cloned().collect();
        compare_keys(&ka, &kb, &orders)
    });
    Ok(cells)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::frame::tests::run;

    #[test]
    fn only_runs_with_meta_networks_make_cells() {
        let mut a = run(&[("m", "l2t"), ("seed", "0")], 1.0);
        a.summary.initial_stats = [
            ("lambda.p".to_string(), 1.0),
            ("entropy.p".to_string(), 4.0),
        ]
        .into_iter()
        .collect();
        for e in &mut a.summary.epochs {
            e.stats = [
                ("lambda.p".to_string(), 1.5),
                ("entropy.p".to_string(), 3.0),
            ]
            .into_iter()
            .collect();
        }
        let mut b = a.clone();
        b.at.labels.insert("seed".into(), "1".into());
        b.summary
            .epochs
            .last_mut()
            .unwrap()
            .stats
            .insert("lambda.p".into(), 0.5);
        let plain = run(&[("m", "scratch"), ("seed", "0")], 1.0);
        let spec = ReportSpec {
            cols: vec!["m".into()],
            ..ReportSpec::default()
        };
        let cells = movement(&[plain, a, b], &spec).unwrap();
        assert_eq!(cells.len(), 1);
        let c = &cells[0];
        assert_eq!((c.col.as_slice(), c.n), (&["l2t".to_string()][..], 2));
        assert_eq!(c.lambda_shift.0, 0.5);
        assert_eq!(c.entropy_ratio, (0.75, Some(0.0)));
    }
}
