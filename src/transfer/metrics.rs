//! Per-epoch metrics of a run as a Parquet file: one row per epoch with `epoch`, `lr`,
//! `train_loss`, `train_acc`, `val_acc`, `test_acc`, `seconds`, then one float column per loss
//! term (`term.ce`, `term.wfm`, …) and per method statistic (`lambda.s0.4-0`, `entropy.s0.4-0`,
//! …), and for L2T runs how far the meta-networks moved since before training (`meta.lambda_shift`:
//! mean over pairs of |λ − λ₀|; `meta.w_entropy` and `meta.w_entropy_init`: mean entropy of w now
//! and before training); the run's method, seed, l2tww version, device and the statistics before
//! training (`l2tww.initial_stats`, JSON) in the file metadata.

use crate::error::{Error, Result};
use crate::fsx;
use crate::transfer::record::columns as col;
use crate::transfer::record::{meta_movement, RunSummary};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// Writes the epochs of `run` to `path` atomically.
pub fn write_metrics(path: &Path, run: &RunSummary) -> Result<()> {
    let e = &run.epochs;
    let terms: BTreeSet<&String> = e.iter().flat_map(|r| r.terms.keys()).collect();
    let stats: BTreeSet<&String> = e.iter().flat_map(|r| r.stats.keys()).collect();
    let mut fields = vec![Field::new(col::EPOCH, DataType::UInt64, false)];
    let mut cols: Vec<ArrayRef> = vec![Arc::new(UInt64Array::from_iter_values(
        e.iter().map(|r| r.epoch as u64),
    ))];
    let mut float = |name: String, values: Vec<Option<f64>>| {
        fields.push(Field::new(name, DataType::Float64, true));
        cols.push(Arc::new(Float64Array::from(values)));
    };
    float(col::LR.into(), e.iter().map(|r| Some(r.lr)).collect());
    float(
        col::TRAIN_LOSS.into(),
        e.iter().map(|r| Some(r.train_loss)).collect(),
    );
    float(
        col::TRAIN_ACC.into(),
        e.iter().map(|r| Some(r.train_acc)).collect(),
    );
    float(
        col::VAL_ACC.into(),
        e.iter().map(|r| Some(r.val_acc)).collect(),
    );
    float(col::TEST_ACC.into(), e.iter().map(|r| r.test_acc).collect());
    float(
        col::SECONDS.into(),
        e.iter().map(|r| Some(r.seconds)).collect(),
    );
    for t in &terms {
        float(
            format!("{}{t}", col::TERM),
            e.iter().map(|r| r.terms.get(*t).copied()).collect(),
        );
    }
    for s in &stats {
        float(
            (*s).clone(),
            e.iter().map(|r| r.stats.get(*s).copied()).collect(),
        );
    }
    let moved: Vec<_> = e
        .iter()
        .map(|r| meta_movement(&run.initial_stats, &r.stats))
        .collect();
    if moved.iter().any(Option::is_some) {
        float(
            col::META_LAMBDA_SHIFT.into(),
            moved.iter().map(|m| m.map(|m| m.lambda_shift)).collect(),
        );
        float(
            col::META_W_ENTROPY.into(),
            moved.iter().map(|m| m.map(|m| m.w_entropy)).collect(),
        );
        float(
            col::META_W_ENTROPY_INIT.into(),
            moved.iter().map(|m| m.map(|m| m.w_entropy_init)).collect(),
        );
    }
    let schema = Arc::new(Schema::new(fields));
    let bad = |e: &dyn std::fmt::Display| Error::bad_file(path, format!("Parquet: {e}"));
    let batch = RecordBatch::try_new(schema.clone(), cols).map_err(|e| bad(&e))?;
    let kv = vec![
        KeyValue::new("l2tww.method".into(), run.method.clone()),
        KeyValue::new("l2tww.seed".into(), run.seed.to_string()),
        KeyValue::new("l2tww.version".into(), run.l2tww_version.clone()),
        KeyValue::new("l2tww.device".into(), run.device.clone()),
        KeyValue::new(
            "l2tww.initial_stats".into(),
            serde_json::to_string(&run.initial_stats).map_err(|e| bad(&e))?,
        ),
    ];
    let props = WriterProperties::builder()
        .set_key_value_metadata(Some(kv))
        .build();
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, schema, Some(props)).map_err(|e| bad(&e))?;
    w.write(&batch).map_err(|e| bad(&e))?;
    w.close().map_err(|e| bad(&e))?;
    fsx::write_atomic(path, &buf)
}
