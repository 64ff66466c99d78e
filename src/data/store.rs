//! The Parquet store: one file per split, written with arrow + parquet, read back whole.
//!
//! Columns: `index` (uint64, the row's position in the source split), `label` (int64),
//! `image` (binary: raw HWC uint8, or the original JPEG/PNG bytes), `height`, `width`,
//! `channels` (int32), `encoding` (utf8: `raw`, `jpeg` or `png`). File metadata (key-value):
//! `l2tww.classes` (JSON list of class names), `l2tww.provenance` (JSON: dataset, split, reader
//! version, source files with their blake3, split file), `l2tww.schema` (`1`).
use crate::data::sample::{decode_rgb, Encoding, Sample};
use crate::error::{Error, Result};
use crate::fsx;
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, UInt64Type};
use arrow_array::{
    ArrayRef, BinaryArray, Int32Array, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per record batch and row group.
const ROWS_PER_GROUP: usize = 1024;

fn schema(metadata: HashMap<String, String>) -> Arc<Schema> {
    let f = |n: &str, t: DataType| Field::new(n, t, false);
    Arc::new(Schema::new_with_metadata(
        vec![
            f("index", DataType::UInt64),
            f("label", DataType::Int64),
            f("image", DataType::Binary),
            f("height", DataType::Int32),
            f("width", DataType::Int32),
            f("channels", DataType::Int32),
            f("encoding", DataType::Utf8),
        ],
        metadata,
    ))
}

fn pq_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::bad_file(path, format!("Parquet: {e}"))
}

/// Writes `samples` to the Parquet file `path` (atomically: a temporary file renamed into place)
/// with the class names and provenance (any JSON) in the file metadata.
pub fn write_split(
    path: &Path,
    samples: &[Sample],
    classes: &[String],
    provenance: &serde_json::Value,
) -> Result<()> {
    let dir = fsx::parent_dir(path);
    fsx::create_dir_all(&dir)?;
    let tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| Error::io(&dir, e))?;
    // The metadata goes both into the Parquet key-value metadata (read by `Store::open` and
    // polars) and into the Arrow schema (what pyarrow shows as `schema.metadata`).
    let meta: HashMap<String, String> = [
        ("l2tww.schema", "1".to_string()),
        (
            "l2tww.classes",
            serde_json::to_string(classes).expect("strings serialise"),
        ),
        ("l2tww.provenance", provenance.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut kv: Vec<KeyValue> = meta
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    kv.sort_by(|a, b| a.key.cmp(&b.key));
    let schema = schema(meta);
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROWS_PER_GROUP))
        .set_key_value_metadata(Some(kv))
        .build();
    let file = tmp.reopen().map_err(|e| Error::io(tmp.path(), e))?;
    let mut w =
        ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| pq_err(path, e))?;
    for chunk in samples.chunks(ROWS_PER_GROUP) {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(UInt64Array::from_iter_values(chunk.iter().map(|s| s.index))),
            Arc::new(Int64Array::from_iter_values(chunk.iter().map(|s| s.label))),
            Arc::new(BinaryArray::from_iter_values(
                chunk.iter().map(|s| &s.bytes),
            )),
            Arc::new(Int32Array::from_iter_values(
                chunk.iter().map(|s| s.height as i32),
            )),
            Arc::new(Int32Array::from_iter_values(
                chunk.iter().map(|s| s.width as i32),
            )),
            Arc::new(Int32Array::from_iter_values(
                chunk.iter().map(|s| s.channels as i32),
            )),
            Arc::new(StringArray::from_iter_values(
                chunk.iter().map(|s| s.encoding.name()),
            )),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols).map_err(|e| pq_err(path, e))?;
        w.write(&batch).map_err(|e| pq_err(path, e))?;
    }
    w.close().map_err(|e| pq_err(path, e))?;
    fsx::persist(tmp, path)
}

/// A decoded image: height × width × channels uint8, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Height.
    pub height: usize,
    /// Width.
    pub width: usize,
    /// Channels (1 or 3).
    pub channels: usize,
    /// HWC pixels.
    pub pixels: Vec<u8>,
}

/// A split read from its Parquet file, held in memory (images stay encoded until asked for).
#[derive(Debug)]
pub struct Store {
    /// The file it was read from.
    pub path: PathBuf,
    /// Class names; label `i` is `classes[i]`.
    pub classes: Vec<String>,
    /// The provenance JSON from the file metadata.
    pub provenance: serde_json::Value,
    /// Position of each row in its source split.
    pub index: Vec<u64>,
    /// Label of each row.
    pub labels: Vec<i64>,
    shape: Vec<(u32, u32, u8)>,
    encoding: Vec<Encoding>,
    data: Vec<u8>,
    offsets: Vec<usize>,
}

impl Store {
    /// Reads a split Parquet file written by [`write_split`], checking every row.
    pub fn open(path: &Path) -> Result<Store> {
        let file = fsx::open(path)?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
            pq_err(
                path,
                format!("{e}; is this a Parquet file written by `l2tww data prepare`?"),
            )
        })?;
        let kv = key_values(&builder);
        let classes = class_names(&kv, path)?;
        let get = |k: &str| kv.iter().find(|e| e.key == k).and_then(|e| e.value.clone());
        let provenance = get("l2tww.provenance")
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or(serde_json::Value::Null);
        let reader = builder
            .with_batch_size(ROWS_PER_GROUP)
            .build()
            .map_err(|e| pq_err(path, e))?;
        let mut s = Store {
            path: path.into(),
            classes,
            provenance,
            index: vec![],
            labels: vec![],
            shape: vec![],
            encoding: vec![],
            data: vec![],
            offsets: vec![0],
        };
        for batch in reader {
            let b = batch.map_err(|e| pq_err(path, e))?;
            let col = |n: &str| {
                b.column_by_name(n)
                    .ok_or_else(|| Error::bad_file(path, format!("no `{n}` column")))
            };
            let (idx, lab, img) = (
                col("index")?.as_primitive_opt::<UInt64Type>().cloned(),
                col("label")?.as_primitive_opt::<Int64Type>().cloned(),
                col("image")?.as_binary_opt::<i32>().cloned(),
            );
            let (h, w, c) = (
                col("height")?.as_primitive_opt::<Int32Type>().cloned(),
                col("width")?.as_primitive_opt::<Int32Type>().cloned(),
                col("channels")?.as_primitive_opt::<Int32Type>().cloned(),
            );
            let enc = col("encoding")?.as_string_opt::<i32>().cloned();
            let (Some(idx), Some(lab), Some(img), Some(h), Some(w), Some(c), Some(enc)) =
                (idx, lab, img, h, w, c, enc)
            else {
                return Err(Error::bad_file(
                    path,
                    "a column has the wrong type; the file does not follow the l2tww schema",
                ));
            };
            for r in 0..b.num_rows() {
                let row = s.labels.len();
                let bad = |m: String| Error::bad_file(path, format!("row {row}: {m}"));
                let label = lab.value(r);
                if label < 0 || label as usize >= s.classes.len() {
                    return Err(bad(format!(
                        "label {label} out of range 0..{}",
                        s.classes.len()
                    )));
                }
                let encoding = Encoding::from_name(enc.value(r))
                    .ok_or_else(|| bad(format!("unknown encoding `{}`", enc.value(r))))?;
                let (hh, ww, cc) = (h.value(r), w.value(r), c.value(r));
                let bytes = img.value(r);
                if hh <= 0
                    || ww <= 0
                    || !(cc == 1 || cc == 3)
                    || (encoding == Encoding::Raw
                        && bytes.len() as i64 != hh as i64 * ww as i64 * cc as i64)
                {
                    return Err(bad(format!(
                        "{} image bytes do not fit {hh}×{ww}×{cc}",
                        bytes.len()
                    )));
                }
                s.index.push(idx.value(r));
                s.labels.push(label);
                s.shape.push((hh as u32, ww as u32, cc as u8));
                s.encoding.push(encoding);
                s.data.extend_from_slice(bytes);
                s.offsets.push(s.data.len());
            }
        }
        Ok(s)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split has no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Row `i`'s stored bytes and encoding.
    pub fn raw(&self, i: usize) -> (&[u8], Encoding) {
        (
            &self.data[self.offsets[i]..self.offsets[i + 1]],
            self.encoding[i],
        )
    }

    /// Row `i`'s (height, width, channels).
    pub fn shape(&self, i: usize) -> (u32, u32, u8) {
        self.shape[i]
    }

    /// Row `i` decoded to HWC uint8 (encoded images become RGB).
    pub fn image(&self, i: usize) -> Result<Image> {
        let (bytes, enc) = self.raw(i);
        let (h, w, c) = self.shape[i];
        if enc == Encoding::Raw {
            return Ok(Image {
                height: h as usize,
                width: w as usize,
                channels: c as usize,
                pixels: bytes.to_vec(),
            });
        }
        let rgb = decode_rgb(bytes).map_err(|e| {
            Error::bad_file(
                &self.path,
                format!("row {i}: image does not decode ({e}); prepare the dataset again"),
            )
        })?;
        Ok(Image {
            height: rgb.height() as usize,
            width: rgb.width() as usize,
            channels: 3,
            pixels: rgb.into_raw(),
        })
    }

    /// Number of rows per class.
    pub fn counts(&self) -> Vec<usize> {
        count_labels(&self.labels, self.classes.len())
    }
}

fn count_labels(labels: &[i64], classes: usize) -> Vec<usize> {
    let mut c = vec![0; classes];
    for &l in labels {
        if let Some(n) = usize::try_from(l).ok().and_then(|l| c.get_mut(l)) {
            *n += 1;
        }
    }
    c
}

fn key_values<T>(builder: &parquet::arrow::arrow_reader::ArrowReaderBuilder<T>) -> Vec<KeyValue> {
    builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .cloned()
        .unwrap_or_default()
}

fn class_names(kv: &[KeyValue], path: &Path) -> Result<Vec<String>> {
    kv.iter()
        .find(|e| e.key == "l2tww.classes")
        .and_then(|e| serde_json::from_str(e.value.as_deref()?).ok())
        .ok_or_else(|| {
            Error::bad_file(
                path,
                "no `l2tww.classes` in the file metadata: not written by `l2tww data prepare`",
            )
        })
}

/// The class names and the number of rows per class of a split, reading only its `label`
/// column (cheap beside [`Store::open`], which reads every image).
pub fn class_counts(path: &Path) -> Result<(Vec<String>, Vec<usize>)> {
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(fsx::open(path)?).map_err(|e| pq_err(path, e))?;
    let classes = class_names(&key_values(&builder), path)?;
    let at = builder
        .schema()
        .index_of("label")
        .map_err(|_| Error::bad_file(path, "no `label` column"))?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), [at]);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(|e| pq_err(path, e))?;
    let mut labels = Vec::new();
    for batch in reader {
        let b = batch.map_err(|e| pq_err(path, e))?;
        let col = b
            .column(0)
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| Error::bad_file(path, "the `label` column is not int64"))?;
        labels.extend(col.values().iter().copied());
    }
    let counts = count_labels(&labels, classes.len());
    Ok((classes, counts))
}
