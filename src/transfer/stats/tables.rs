//! The Parquet files of a statistics folder, written atomically (temporary file, then rename)
//! and read back:
//! - `features.parquet`: `row` (uint64, the row in the split file), `label` (int64, as training
//!   sees it), and per tap a column named after it, FixedSizeList<float32> of its channel count:
//!   the globally average-pooled feature;
//! - `channels.parquet`: `layer` (utf8), `channel` (int64), `mean`, `std` (float64);
//! - `logme.parquet`: `layer` (utf8), `dim` (int64), `logme` (float64).
//!
//! `channels.parquet` and `logme.parquet` carry the `stats.json` content in the key-value
//! metadata `l2tww.source-stats`, so that a file alone says what it describes.

use crate::error::{Error, Result};
use crate::fsx;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, FixedSizeListArray, Float32Array, Float64Array, Int64Array, RecordBatch,
    StringArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::path::Path;
use std::sync::Arc;

/// The key-value metadata key holding the provenance JSON.
pub const META_KEY: &str = "l2tww.source-stats";

fn pq_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::bad_file(path, format!("Parquet: {e}"))
}

/// One pooled-feature column: the tap's name, its channel count and the values (rows × channels,
/// row-major).
pub struct FeatureColumn<'a> {
    /// The tap's name.
    pub name: &'a str,
    /// Its channel count.
    pub channels: usize,
    /// Row-major values.
    pub values: &'a [f32],
}

/// One tap's channel statistics and score, as the tables hold them.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerTable {
    /// The tap's name.
    pub layer: String,
    /// Mean of each channel's pooled feature.
    pub mean: Vec<f64>,
    /// Population standard deviation of each channel's pooled feature.
    pub std: Vec<f64>,
    /// LogME of the layer for the labels.
    pub logme: f64,
}

fn write(path: &Path, columns: Vec<(&str, ArrayRef)>, meta: Option<&str>) -> Result<()> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), false))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.1).collect())
        .map_err(|e| pq_err(path, e))?;
    let kv = meta.map(|m| vec![KeyValue::new(META_KEY.to_string(), m.to_string())]);
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(kv)
        .build();
    let dir = fsx::parent_dir(path);
    fsx::create_dir_all(&dir)?;
    let tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| Error::io(&dir, e))?;
    let file = tmp.reopen().map_err(|e| Error::io(tmp.path(), e))?;
    let mut w = ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| pq_err(path, e))?;
    w.write(&batch).map_err(|e| pq_err(path, e))?;
    w.close().map_err(|e| pq_err(path, e))?;
    fsx::persist(tmp, path)
}

/// Writes `features.parquet`.
pub fn write_features(
    path: &Path,
    rows: &[u64],
    labels: &[i64],
    taps: &[FeatureColumn],
) -> Result<()> {
    let mut cols: Vec<(&str, ArrayRef)> = vec![
        ("row", Arc::new(UInt64Array::from(rows.to_vec()))),
        ("label", Arc::new(Int64Array::from(labels.to_vec()))),
    ];
    for t in taps {
        let item = Arc::new(Field::new("item", DataType::Float32, false));
        let values = Arc::new(Float32Array::from(t.values.to_vec()));
        let list = FixedSizeListArray::try_new(item, t.channels as i32, values, None)
            .map_err(|e| pq_err(path, format!("tap `{}`: {e}", t.name)))?;
        cols.push((t.name, Arc::new(list)));
    }
    write(path, cols, None)
}

/// Writes `channels.parquet` with the provenance JSON `meta`.
pub fn write_channels(path: &Path, layers: &[LayerTable], meta: &str) -> Result<()> {
    let (mut layer, mut channel, mut mean, mut std) = (vec![], vec![], vec![], vec![]);
    for l in layers {
        for (c, (m, s)) in l.mean.iter().zip(&l.std).enumerate() {
            layer.push(l.layer.as_str());
            channel.push(c as i64);
            mean.push(*m);
            std.push(*s);
        }
    }
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("layer", Arc::new(StringArray::from(layer))),
        ("channel", Arc::new(Int64Array::from(channel))),
        ("mean", Arc::new(Float64Array::from(mean))),
        ("std", Arc::new(Float64Array::from(std))),
    ];
    write(path, cols, Some(meta))
}

/// Writes `logme.parquet` with the provenance JSON `meta`.
pub fn write_logme(path: &Path, layers: &[LayerTable], meta: &str) -> Result<()> {
    let cols: Vec<(&str, ArrayRef)> = vec![
        (
            "layer",
            Arc::new(StringArray::from_iter_values(
                layers.iter().map(|l| &l.layer),
            )),
        ),
        (
            "dim",
            Arc::new(Int64Array::from_iter_values(
                layers.iter().map(|l| l.mean.len() as i64),
            )),
        ),
        (
            "logme",
            Arc::new(Float64Array::from_iter_values(
                layers.iter().map(|l| l.logme),
            )),
        ),
    ];
    write(path, cols, Some(meta))
}

/// The record batches of `path` and its provenance metadata (null when absent).
fn read(path: &Path) -> Result<(Vec<RecordBatch>, serde_json::Value)> {
    let file = fsx::open(path)?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| pq_err(path, e))?;
    let meta = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|e| e.key == META_KEY))
        .and_then(|e| e.value.as_deref())
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or(serde_json::Value::Null);
    let reader = builder.build().map_err(|e| pq_err(path, e))?;
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| pq_err(path, e))?;
    Ok((batches, meta))
}

/// Reads `channels.parquet` (as written by [`write_channels`]): the taps in file order with
/// their channels' mean and std (`logme` is NaN), and the provenance metadata.
pub fn read_channels(path: &Path) -> Result<(Vec<LayerTable>, serde_json::Value)> {
    let (batches, meta) = read(path)?;
    let wrong = || {
        Error::bad_file(
            path,
            "not a channels.parquet of `l2tww stats`: expected columns layer (utf8), channel \
             (int64), mean and std (float64)",
        )
    };
    let mut layers: Vec<LayerTable> = Vec::new();
    for b in &batches {
        let col = |n: &str| b.column_by_name(n).ok_or_else(wrong);
        let layer = col("layer")?.as_string_opt::<i32>().ok_or_else(wrong)?;
        let channel = col("channel")?
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(wrong)?;
        let mean = col("mean")?
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(wrong)?;
        let std = col("std")?
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(wrong)?;
        for r in 0..b.num_rows() {
            let name = layer.value(r);
            if layers.last().is_none_or(|l| l.layer != name) {
                layers.push(LayerTable {
                    layer: name.to_string(),
                    mean: vec![],
                    std: vec![],
                    logme: f64::NAN,
                });
            }
            let l = layers.last_mut().expect("pushed above");
            if channel.value(r) != l.mean.len() as i64 {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "layer `{name}`: channel {} where {} was expected; the file is damaged",
                        channel.value(r),
                        l.mean.len()
                    ),
                ));
            }
            l.mean.push(mean.value(r));
            l.std.push(std.value(r));
        }
    }
    Ok((layers, meta))
}
