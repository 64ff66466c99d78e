//! Per-epoch method statistics from a run's `metrics.parquet`: the `epoch` column and every
//! float column whose name starts with a prefix (`lambda.` or `entropy.`, one per source and
//! pair, e.g. `lambda.s0.4-0`), their epoch-wise mean over several runs, and the mean over each
//! source's pairs (`s0`, `s1`) for multi-source runs.

use crate::error::{Error, Result};
use crate::fsx;
use crate::transfer::record::columns;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt64Type};
use arrow_array::Array;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::BTreeMap;
use std::path::Path;

/// Curves over the epochs: for each column, the value at each epoch (absent where null).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Curves {
    /// Epoch numbers, ascending.
    pub epochs: Vec<u64>,
    /// Column name without the prefix (`s0.4-0`) → one value per epoch.
    pub columns: BTreeMap<String, Vec<Option<f64>>>,
}

impl Curves {
    /// Whether there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty() || self.epochs.is_empty()
    }
}

/// Reads the columns of `path` whose names start with `prefix`.
pub fn read_curves(path: &Path, prefix: &str) -> Result<Curves> {
    let bad = |e: &dyn std::fmt::Display| Error::bad_file(path, format!("metrics Parquet: {e}"));
    let file = fsx::open(path)?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| bad(&e))?
        .build()
        .map_err(|e| bad(&e))?;
    let mut out = Curves::default();
    for batch in reader {
        let batch = batch.map_err(|e| bad(&e))?;
        let schema = batch.schema();
        let epoch = batch
            .column_by_name(columns::EPOCH)
            .and_then(|c| c.as_primitive_opt::<UInt64Type>())
            .ok_or_else(|| bad(&"no UInt64 column `epoch`"))?;
        out.epochs.extend(epoch.iter().map(|e| e.unwrap_or(0)));
        for (field, col) in schema.fields().iter().zip(batch.columns()) {
            let Some(name) = field.name().strip_prefix(prefix) else {
                continue;
            };
            let values = col
                .as_primitive_opt::<Float64Type>()
                .ok_or_else(|| bad(&format!("column `{}` is not Float64", field.name())))?;
            let target = out.columns.entry(name.to_string()).or_default();
            // A column first seen in a later batch is absent in the earlier rows.
            target.resize(out.epochs.len() - values.len(), None);
            target.extend((0..values.len()).map(|i| values.is_valid(i).then(|| values.value(i))));
        }
        for v in out.columns.values_mut() {
            v.resize(out.epochs.len(), None);
        }
    }
    Ok(out)
}

/// The epoch-wise mean of several runs' curves (over the runs that have a value there).
pub fn mean_curves(runs: &[Curves]) -> Curves {
    let mut sums: BTreeMap<String, BTreeMap<u64, (f64, usize)>> = BTreeMap::new();
    for c in runs {
        for (name, values) in &c.columns {
            let per_epoch = sums.entry(name.clone()).or_default();
            for (e, v) in c.epochs.iter().zip(values) {
                let slot = per_epoch.entry(*e).or_insert((0.0, 0));
                if let Some(x) = v.filter(|x| x.is_finite()) {
                    slot.0 += x;
                    slot.1 += 1;
                }
            }
        }
    }
    let mut epochs: Vec<u64> = sums.values().flat_map(|m| m.keys().copied()).collect();
    epochs.sort_unstable();
    epochs.dedup();
    let columns = sums
        .into_iter()
        .map(|(name, per_epoch)| {
            let values = epochs
                .iter()
                .map(|e| match per_epoch.get(e) {
                    Some(&(s, n)) if n > 0 => Some(s / n as f64),
                    _ => None,
                })
                .collect();
            (name, values)
        })
        .collect();
    Curves { epochs, columns }
}

/// The epoch-wise mean over each source's pairs: columns `s0.4-0`, `s0.9-1`, `s1.4-0` → `s0`,
/// `s1` (a column without a source prefix is its own group).
pub fn by_source(c: &Curves) -> Curves {
    let mut groups: BTreeMap<String, Vec<&Vec<Option<f64>>>> = BTreeMap::new();
    for (name, values) in &c.columns {
        let source = name.split('.').next().unwrap_or(name).to_string();
        groups.entry(source).or_default().push(values);
    }
    let columns = groups
        .into_iter()
        .map(|(source, cols)| {
            let values = (0..c.epochs.len())
                .map(|i| {
                    let xs: Vec<f64> = cols
                        .iter()
                        .filter_map(|v| v.get(i).copied().flatten())
                        .filter(|x| x.is_finite())
                        .collect();
                    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
                })
                .collect();
            (source, values)
        })
        .collect();
    Curves {
        epochs: c.epochs.clone(),
        columns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curves(epochs: &[u64], name: &str, values: &[Option<f64>]) -> Curves {
        Curves {
            epochs: epochs.to_vec(),
            columns: [(name.to_string(), values.to_vec())].into_iter().collect(),
        }
    }

    #[test]
    fn the_mean_is_taken_per_epoch_over_the_runs_with_a_value() {
        let a = curves(&[0, 1], "s0.4-0", &[Some(1.0), Some(3.0)]);
        let b = curves(&[0, 1, 2], "s0.4-0", &[Some(3.0), None, Some(7.0)]);
        let m = mean_curves(&[a, b]);
        assert_eq!(m.epochs, [0, 1, 2]);
        assert_eq!(m.columns["s0.4-0"], [Some(2.0), Some(3.0), Some(7.0)]);
    }

    #[test]
    fn each_sources_pairs_are_averaged_per_epoch() {
        let c = Curves {
            epochs: vec![0, 1],
            columns: [
                ("s0.4-0".to_string(), vec![Some(1.0), Some(2.0)]),
                ("s0.9-1".to_string(), vec![Some(3.0), None]),
                ("s1.4-0".to_string(), vec![Some(5.0), Some(6.0)]),
            ]
            .into_iter()
            .collect(),
        };
        let b = by_source(&c);
        assert_eq!(b.columns["s0"], [Some(2.0), Some(2.0)]);
        assert_eq!(b.columns["s1"], [Some(5.0), Some(6.0)]);
    }

    #[test]
    fn no_runs_make_empty_curves() {
        assert!(mean_curves(&[]).is_empty());
    }
}
