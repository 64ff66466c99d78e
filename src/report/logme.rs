//! The LogME ranking of source layers: each source's `logme.parquet` (columns `source`,
//! `layer`, `logme`) read and ranked together, the highest LogME first (rank 1).

use crate::error::{Error, Result};
use crate::fsx;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};

/// One ranked layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// The source, as the caller labels it.
    pub source: String,
    /// The layer.
    pub layer: String,
    /// Its LogME score.
    pub logme: f64,
    /// 1 for the highest score; non-finite scores come last.
    pub rank: usize,
}

/// Reads every `(source label, logme.parquet)` and ranks all layers together.
pub fn rank(tables: &[(String, PathBuf)]) -> Result<Vec<Ranked>> {
    let mut all = Vec::new();
    for (source, path) in tables {
        for (layer, logme) in read(path)? {
            all.push(Ranked {
                source: source.clone(),
                layer,
                logme,
                rank: 0,
            });
        }
    }
    // Finite scores descending; a stable sort keeps the input order among equals.
    all.sort_by(|a, b| match (a.logme.is_finite(), b.logme.is_finite()) {
        (true, true) => b.logme.total_cmp(&a.logme),
        (x, y) => y.cmp(&x),
    });
    for (i, r) in all.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    Ok(all)
}

/// The `(layer, logme)` rows of one file.
fn read(path: &Path) -> Result<Vec<(String, f64)>> {
    let bad = |e: &dyn std::fmt::Display| Error::bad_file(path, format!("LogME Parquet: {e}"));
    let reader = ParquetRecordBatchReaderBuilder::try_new(fsx::open(path)?)
        .map_err(|e| bad(&e))?
        .build()
        .map_err(|e| bad(&e))?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad(&e))?;
        let col = |name: &str| {
            batch.column_by_name(name).cloned().ok_or_else(|| {
                bad(&format!(
                    "no column `{name}` (expected source, layer, logme)"
                ))
            })
        };
        let layers = strings(&col("layer")?).ok_or_else(|| bad(&"column `layer` is not text"))?;
        let scores = floats(&col("logme")?).ok_or_else(|| bad(&"column `logme` is not a float"))?;
        out.extend(layers.into_iter().zip(scores));
    }
    Ok(out)
}

fn strings(a: &ArrayRef) -> Option<Vec<String>> {
    let get =
        |i: usize, v: &dyn Fn(usize) -> String| if a.is_valid(i) { v(i) } else { String::new() };
    let n = a.len();
    Some(match a.data_type() {
        DataType::Utf8 => {
            let s = a.as_string::<i32>();
            (0..n)
                .map(|i| get(i, &|i| s.value(i).to_string()))
                .collect()
        }
        DataType::LargeUtf8 => {
            let s = a.as_string::<i64>();
            (0..n)
                .map(|i| get(i, &|i| s.value(i).to_string()))
                .collect()
        }
        DataType::Utf8View => {
            let s = a.as_string_view();
            (0..n)
                .map(|i| get(i, &|i| s.value(i).to_string()))
                .collect()
        }
        _ => return None,
    })
}

fn floats(a: &ArrayRef) -> Option<Vec<f64>> {
    let n = a.len();
    let nan = |i: usize, x: f64| if a.is_valid(i) { x } else { f64::NAN };
    Some(match a.data_type() {
        DataType::Float64 => {
            let f = a.as_primitive::<Float64Type>();
            (0..n).map(|i| nan(i, f.value(i))).collect()
        }
        DataType::Float32 => {
            let f = a.as_primitive::<Float32Type>();
            (0..n).map(|i| nan(i, f.value(i) as f64)).collect()
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Float64Array, RecordBatch, StringArray};
    use arrow_schema::{Field, Schema};
    use parquet::arrow::ArrowWriter;
    use std::sync::Arc;

    fn write_logme(path: &Path, rows: &[(&str, f64)]) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("source", DataType::Utf8, false),
            Field::new("layer", DataType::Utf8, false),
            Field::new("logme", DataType::Float64, false),
        ]));
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["net"; rows.len()])),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.1))),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
        let mut w =
            ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    #[test]
    fn layers_of_all_sources_are_ranked_together_highest_first() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.parquet"), dir.path().join("b.parquet"));
        write_logme(&a, &[("l1", 0.5), ("l2", f64::NAN)]);
        write_logme(&b, &[("l1", 0.9), ("l3", -0.2)]);
        let r = rank(&[("A".into(), a), ("B".into(), b)]).unwrap();
        let got: Vec<(&str, &str, usize)> = r
            .iter()
            .map(|x| (x.source.as_str(), x.layer.as_str(), x.rank))
            .collect();
        assert_eq!(
            got,
            [
                ("B", "l1", 1),
                ("A", "l1", 2),
                ("B", "l3", 3),
                ("A", "l2", 4)
            ]
        );
    }

    #[test]
    fn a_file_without_the_logme_column_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        let schema = Arc::new(Schema::new(vec![Field::new(
            "layer",
            DataType::Utf8,
            false,
        )]));
        let col: ArrayRef = Arc::new(StringArray::from(vec!["l1"]));
        let batch = RecordBatch::try_new(schema.clone(), vec![col]).unwrap();
        let mut w =
            ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let msg = rank(&[("A".into(), path.clone())]).unwrap_err().to_string();
        assert!(msg.contains("x.parquet") && msg.contains("logme"), "{msg}");
    }
}
