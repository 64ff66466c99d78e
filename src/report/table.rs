//! The pivot: runs grouped by the values of the `rows` and `cols` labels, each group reduced by
//! polars to mean, sample standard deviation (n − 1), n, min and max of one value; the
//! remaining labels (normally the seed) are what a cell aggregates over. Rows and columns are
//! ordered by [`crate::report::order`]. It reads the report's own [`ReportSpec`] (its `rows`,
//! `cols`, `value` and `order`): the table's options are declared once, there.

use crate::error::Result;
use crate::report::frame::{check_labels, label_names, polars_error, runs_frame, Run};
use crate::report::order::{compare_keys, label_order};
use crate::report::spec::ReportSpec;
use polars::prelude::{Column, DataFrame};
use std::collections::BTreeMap;

/// One cell: the statistics of the value over the runs that share its row and column key.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The values of the row labels.
    pub row: Vec<String>,
    /// The values of the column labels.
    pub col: Vec<String>,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1); `None` when n < 2.
    pub std: Option<f64>,
    /// Number of runs.
    pub n: usize,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

/// The pivot table.
#[derive(Debug, Clone, PartialEq)]
pub struct Pivot {
    /// What it was built from.
    pub spec: ReportSpec,
    /// Row keys, in display order.
    pub rows: Vec<Vec<String>>,
    /// Column keys, in display order.
    pub cols: Vec<Vec<String>>,
    /// The non-empty cells.
    pub cells: Vec<Cell>,
    /// The labels a cell aggregates over, each with its values in order.
    pub over: BTreeMap<String, Vec<String>>,
}

impl Pivot {
    /// The cell at `row` × `col`, if any run falls there.
    pub fn get(&self, row: &[String], col: &[String]) -> Option<&Cell> {
        self.cells.iter().find(|c| c.row == row && c.col == col)
    }
}

/// Builds the pivot of `runs` (at least one) for `spec`.
pub fn pivot(runs: &[Run], spec: &ReportSpec) -> Result<Pivot> {
    let wanted: Vec<&str> = spec
        .rows
        .iter()
        .chain(&spec.cols)
        .map(String::as_str)
        .collect();
    check_labels(runs, &wanted)?;
    let df = runs_frame(runs)?;
    let stats = group_stats(&df, &wanted, spec.value.column())?;

    let order_of = |label: &String| label_order(runs, spec, label);
    let row_orders: Vec<Vec<String>> = spec.rows.iter().map(order_of).collect();
    let col_orders: Vec<Vec<String>> = spec.cols.iter().map(order_of).collect();
    let split = |key: &[String]| {
        let (r, c) = key.split_at(spec.rows.len());
        (r.to_vec(), c.to_vec())
    };
    let mut cells: Vec<Cell> = stats
        .into_iter()
        .map(|(key, s)| {
            let (row, col) = split(&key);
            Cell {
                row,
                col,
                mean: s.mean,
                std: s.std.filter(|_| s.n >= 2),
                n: s.n,
                min: s.min,
                max: s.max,
            }
        })
        .collect();
    cells.sort_by(|a, b| {
        compare_keys(&a.row, &b.row, &row_orders).then(compare_keys(&a.col, &b.col, &col_orders))
    });
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut cols: Vec<Vec<String>> = Vec::new();
    for c in &cells {
        if !rows.contains(&c.row) {
            rows.push(c.row.clone());
        }
        if !cols.contains(&c.col) {
            cols.push(c.col.clone());
        }
    }
    cols.sort_by(|a, b| compare_keys(a, b, &col_orders));
    let over = label_names(runs)
        .into_iter()
        .filter(|l| !wanted.contains(&l.as_str()))
        .map(|l| {
            let values = order_of(&l);
            (l, values)
        })
        .collect();
    Ok(Pivot {
        spec: spec.clone(),
        rows,
        cols,
        cells,
        over,
    })
}

/// Statistics of one group.
pub(crate) struct Stats {
    pub mean: f64,
    pub std: Option<f64>,
    pub n: usize,
    pub min: f64,
    pub max: f64,
}

/// Groups `df` by the string columns `keys` (in first-appearance order) and reduces `value`.
// polars deprecates its eager group-by aggregations in favour of the lazy engine, whose
// compile cost (polars-lazy, -plan, -expr, -ops) is out of proportion for a table of runs.
#[allow(deprecated)]
pub(crate) fn group_stats(
    df: &DataFrame,
    keys: &[&str],
    value: &str,
) -> Result<Vec<(Vec<String>, Stats)>> {
    let mut df = df.clone();
    let mut keys: Vec<&str> = keys.to_vec();
    if keys.is_empty() {
        let all = Column::new("__all".into(), vec![""; df.height()]);
        df.with_column(all).map_err(polars_error)?;
        keys.push("__all");
    }
    let gb = df
        .group_by_stable(&keys)
        .map_err(polars_error)?
        .select([value]);
    let mean = gb.mean().map_err(polars_error)?;
    let std = gb.std(1).map_err(polars_error)?;
    let count = gb.count().map_err(polars_error)?;
    let min = gb.min().map_err(polars_error)?;
    let max = gb.max().map_err(polars_error)?;
    let last = |d: &DataFrame| -> Result<Vec<Option<f64>>> {
        let col = d.columns()[keys.len()]
            .cast(&polars::prelude::DataType::Float64)
            .map_err(polars_error)?;
        Ok(col.f64().map_err(polars_error)?.iter().collect())
    };
    // The key columns come first in every aggregate, in the groups' order.
    let key_cols: Vec<Vec<String>> = if keys == ["__all"] {
        vec![]
    } else {
        mean.columns()[..keys.len()]
            .iter()
            .map(|c| {
                let text = c.str().map_err(polars_error)?;
                Ok(text.iter().map(|v| v.unwrap_or("").to_string()).collect())
            })
            .collect::<Result<_>>()?
    };
    let (mean, std, count, min, max) = (
        last(&mean)?,
        last(&std)?,
        last(&count)?,
        last(&min)?,
        last(&max)?,
    );
    let nan = f64::NAN;
    Ok((0..mean.len())
        .map(|i| {
            let key = key_cols
                .iter()
                .map(|c| c.get(i).cloned().unwrap_or_default())
                .collect();
            let s = Stats {
                mean: mean[i].unwrap_or(nan),
                std: std[i].filter(|x| x.is_finite()),
                n: count[i].unwrap_or(0.0) as usize,
                min: min[i].unwrap_or(nan),
                max: max[i].unwrap_or(nan),
            };
            (key, s)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::frame::tests::run;

    fn spec(rows: &[&str], cols: &[&str]) -> ReportSpec {
        ReportSpec {
            rows: rows.iter().map(|s| s.to_string()).collect(),
            cols: cols.iter().map(|s| s.to_string()).collect(),
            ..ReportSpec::default()
        }
    }

    #[test]
    fn a_cell_holds_the_mean_and_sample_std_over_seeds() {
        let runs = vec![
            run(&[("m", "a"), ("seed", "0")], 10.0),
            run(&[("m", "a"), ("seed", "1")], 20.0),
            run(&[("m", "a"), ("seed", "2")], 60.0),
            run(&[("m", "b"), ("seed", "0")], 5.0),
        ];
        let p = pivot(&runs, &spec(&["m"], &[])).unwrap();
        let a = p.get(&["a".into()], &[]).unwrap();
        assert_eq!((a.mean, a.n, a.min, a.max), (30.0, 3, 10.0, 60.0));
        // deviations −20, −10, 30: sum of squares 1400, over n − 1 = 2 → 700.
        assert!((a.std.unwrap() - 700f64.sqrt()).abs() < 1e-12);
        let b = p.get(&["b".into()], &[]).unwrap();
        assert_eq!((b.std, b.n), (None, 1));
        assert_eq!(p.over["seed"], ["0", "1", "2"]);
    }

    #[test]
    fn rows_and_columns_follow_the_label_order() {
        let runs = vec![
            run(&[("k", "100"), ("m", "z")], 1.0),
            run(&[("k", "25"), ("m", "y")], 2.0),
            run(&[("k", "50"), ("m", "z")], 3.0),
        ];
        let p = pivot(&runs, &spec(&["k"], &["m"])).unwrap();
        let rows: Vec<&str> = p.rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(rows, ["25", "50", "100"]);
        let cols: Vec<&str> = p.cols.iter().map(|c| c[0].as_str()).collect();
        assert_eq!(cols, ["z", "y"]);
        assert!(p.get(&["25".into()], &["z".into()]).is_none());
    }

    #[test]
    fn no_row_or_column_labels_make_one_cell_of_everything() {
        let runs = vec![run(&[("seed", "0")], 1.0), run(&[("seed", "1")], 3.0)];
        let p = pivot(&runs, &spec(&[], &[])).unwrap();
        assert_eq!(p.cells.len(), 1);
        assert_eq!((p.cells[0].mean, p.cells[0].n), (2.0, 2));
    }
}
