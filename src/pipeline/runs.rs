//! The experiments table of a pipeline (`l2tww runs`, the `dvc exp show` of a study): one row
//! per training instance with its labels, the parameters that differ between the instances, its
//! metrics (whole numbers as integers) and time from the cache entry, when it started (UTC),
//! and its state — fresh (in the cache), running (a live process is computing it), failed (its
//! last log ends with an error), or stale.

use super::exec::child::last_error;
use super::exec::job::log_path;
use super::freshness::{freshness, Freshness};
use super::kinds::Kind;
use super::plan::Plan;
use crate::cache::{Store, Verify};
use crate::error::{Error, Result};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The metrics a training entry records, in the order the table shows them.
pub const METRICS: &[&str] = &[
    "test_acc",
    "best_val_acc",
    "final_test_acc",
    "best_epoch",
    "train_seconds",
];

/// One cell: text, or a number (sorted as numbers, written without float noise).
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// Text (labels, parameters, state).
    Text(String),
    /// A measured number (an accuracy, seconds).
    Number(f64),
    /// A whole number (an epoch, a seed, a label such as `per-class=50`).
    Integer(i64),
    /// Nothing (a stale run's metrics).
    Empty,
}

impl Field {
    /// A label's value: a whole number when it is written as one (`seed=0`), else text.
    pub fn label(value: &str) -> Field {
        match value.parse::<i64>() {
            Ok(n) if n.to_string() == value => Field::Integer(n),
            _ => Field::Text(value.to_string()),
        }
    }

    /// The cell as a person reads it: measured numbers to two decimals.
    pub fn text(&self) -> String {
        match self {
            Field::Number(x) => format!("{x:.2}"),
            other => other.csv(),
        }
    }

    /// The cell in CSV: numbers to 12 significant digits, without float noise.
    pub fn csv(&self) -> String {
        match self {
            Field::Text(t) => t.clone(),
            Field::Number(x) => crate::report::csv::number(Some(*x)),
            Field::Integer(n) => n.to_string(),
            Field::Empty => String::new(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Field::Text(t) => Value::String(t.clone()),
            Field::Number(x) => serde_json::json!(x),
            Field::Integer(n) => serde_json::json!(n),
            Field::Empty => Value::Null,
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Field::Number(x) => Some(*x),
            Field::Integer(n) => Some(*n as f64),
            _ => None,
        }
    }
}

/// The table: column names and rows of fields in that order.
#[derive(Debug, Clone, PartialEq)]
pub struct RunsTable {
    /// Column names: `instance`, `state`, the labels, the differing parameters (`params.…`),
    /// the metrics, `seconds` (the stage's wall time) and `started`.
    pub columns: Vec<String>,
    /// One row per training instance, in plan order.
    pub rows: Vec<Vec<Field>>,
}

/// Every training instance of `plan` with its state read from `store`.
pub fn runs_table(plan: &Plan, store: &Store) -> Result<RunsTable> {
    let trains: Vec<_> = plan
        .instances
        .iter()
        .filter(|i| i.kind == Kind::Train)
        .collect();
    let mut labels: Vec<String> = Vec::new();
    let mut params: Vec<BTreeMap<String, String>> = Vec::new();
    for inst in &trains {
        for (k, _) in &inst.labels {
            if !labels.contains(k) {
                labels.push(k.clone());
            }
        }
        let value = serde_json::to_value(&inst.params)
            .map_err(|e| Error::Invalid(format!("parameters of {}: {e}", inst.name)))?;
        let mut flat = BTreeMap::new();
        flatten("", value.get("params").unwrap_or(&value), &mut flat);
        params.push(flat);
    }
    let keys: BTreeSet<&String> = params.iter().flat_map(|p| p.keys()).collect();
    let differing: Vec<String> = keys
        .into_iter()
        .filter(|k| {
            let values: BTreeSet<Option<&String>> = params.iter().map(|p| p.get(*k)).collect();
            values.len() > 1
        })
        .cloned()
        .collect();
    let mut columns = vec!["instance".to_string(), "state".to_string()];
    columns.extend(labels.iter().cloned());
    columns.extend(differing.iter().map(|k| format!("params.{k}")));
    columns.extend(METRICS.iter().map(|m| m.to_string()));
    columns.extend(["seconds".to_string(), "started".to_string()]);
    let mut rows = Vec::new();
    for (inst, flat) in trains.iter().zip(&params) {
        let mut row = vec![Field::Text(inst.name.clone())];
        let entry = match freshness(plan, store, inst, false, Verify::Fast)? {
            Freshness::Fresh(e) => Some(e),
            Freshness::Stale(_) => None,
        };
        let state = match &entry {
            Some(_) => "fresh",
            None if store.is_being_computed(&inst.key) => "running",
            None if last_error(&log_path(store, plan, inst)).is_some() => "failed",
            None => "stale",
        };
        row.push(Field::Text(state.into()));
        for l in &labels {
            row.push(
                inst.labels
                    .iter()
                    .find(|(k, _)| k == l)
                    .map_or(Field::Empty, |(_, v)| Field::label(v)),
            );
        }
        for k in &differing {
            row.push(flat.get(k).map_or(Field::Empty, |v| Field::Text(v.clone())));
        }
        let meta = entry
            .as_ref()
            .map(|e| e.meta().clone())
            .unwrap_or(Value::Null);
        for m in METRICS {
            row.push(number(&meta["metrics"][m]));
        }
        row.push(number(&meta["seconds"]));
        row.push(match meta["started"].as_u64() {
            Some(t) => Field::Text(utc(t)),
            None => Field::Empty,
        });
        rows.push(row);
    }
    Ok(RunsTable { columns, rows })
}

/// A metric from a manifest: whole numbers stay whole (`best_epoch`).
fn number(v: &Value) -> Field {
    match (v.as_i64(), v.as_f64()) {
        (Some(n), _) => Field::Integer(n),
        (None, Some(x)) => Field::Number(x),
        _ => Field::Empty,
    }
}

/// Unix seconds as a UTC time to the minute, `2026-12-03 19:39Z`.
fn utc(secs: u64) -> String {
    let full = crate::cache::utc_text(secs); // `2026-12-03T19:39:07Z`
    format!("{} {}Z", &full[..10], &full[11..16])
}

/// `{"optim": {"lr": 0.1}}` → `optim.lr = 0.1`; lists and scalars as compact JSON text.
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, x, out);
            }
        }
        Value::Null => {}
        Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

impl RunsTable {
    /// Sorts the rows by `column` (numbers as numbers, ascending, empty cells last); an unknown
    /// column is an error that lists the columns.
    pub fn sort_by(&mut self, column: &str) -> Result<()> {
        let i = self.column(column)?;
        self.rows.sort_by(|a, b| match (&a[i], &b[i]) {
            (Field::Empty, Field::Empty) => std::cmp::Ordering::Equal,
            (Field::Empty, _) => std::cmp::Ordering::Greater,
            (_, Field::Empty) => std::cmp::Ordering::Less,
            (x, y) => match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                _ => x.csv().cmp(&y.csv()),
            },
        });
        Ok(())
    }

    fn column(&self, name: &str) -> Result<usize> {
        self.columns.iter().position(|c| c == name).ok_or_else(|| {
            let hint =
                crate::pipeline::names::nearest(name, self.columns.iter().map(String::as_str))
                    .map(|n| format!("did you mean `{n}`? "))
                    .unwrap_or_default();
            Error::Invalid(format!(
                "no column `{name}` in the runs table; {hint}columns: {}",
                self.columns.join(", ")
            ))
        })
    }

    /// Keeps only the columns whose value differs between rows (the instance name always).
    pub fn only_changed(&mut self) {
        let keep: Vec<usize> = (0..self.columns.len())
            .filter(|&i| {
                i == 0 || {
                    let values: BTreeSet<String> = self.rows.iter().map(|r| r[i].csv()).collect();
                    values.len() > 1
                }
            })
            .collect();
        self.columns = keep.iter().map(|&i| self.columns[i].clone()).collect();
        for r in &mut self.rows {
            *r = keep.iter().map(|&i| r[i].clone()).collect();
        }
    }

    /// CSV (RFC 4180), one header line.
    pub fn csv(&self) -> String {
        let mut csv = crate::report::csv::CsvText::with_header(&self.columns);
        for r in &self.rows {
            csv.row(&r.iter().map(Field::csv).collect::<Vec<_>>());
        }
        csv.into_string()
    }

    /// A JSON array of objects, one per row (absent metrics as null).
    pub fn json(&self) -> String {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                Value::Object(
                    self.columns
                        .iter()
                        .cloned()
                        .zip(r.iter().map(Field::json))
                        .collect(),
                )
            })
            .collect();
        serde_json::to_string_pretty(&rows).expect("json") + "\n"
    }

    /// A Markdown table (`|` in cells escaped).
    pub fn markdown(&self) -> String {
        let cell = |s: String| s.replace('|', "\\|");
        let mut out = format!("| {} |\n", self.columns.join(" | "));
        out.push_str(&format!("|{}\n", " --- |".repeat(self.columns.len())));
        for r in &self.rows {
            let cells: Vec<String> = r.iter().map(|f| cell(f.text())).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }

    /// Columns padded to their widest cell, for a terminal.
    pub fn text(&self) -> String {
        let cells: Vec<Vec<String>> = std::iter::once(self.columns.clone())
            .chain(
                self.rows
                    .iter()
                    .map(|r| r.iter().map(Field::text).collect()),
            )
            .collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                cells
                    .iter()
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for r in &cells {
            let line: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RunsTable {
        RunsTable {
            columns: vec![
                "instance".into(),
                "state".into(),
                "method".into(),
                "test_acc".into(),
            ],
            rows: vec![
                vec![
                    Field::Text("t[a]".into()),
                    Field::Text("fresh".into()),
                    Field::Text("a".into()),
                    Field::Number(70.1),
                ],
                vec![
                    Field::Text("t[b]".into()),
                    Field::Text("stale".into()),
                    Field::Text("b".into()),
                    Field::Empty,
                ],
                vec![
                    Field::Text("t[c]".into()),
                    Field::Text("fresh".into()),
                    Field::Text("c".into()),
                    Field::Number(9.5),
                ],
            ],
        }
    }

    #[test]
    fn sorting_puts_numbers_in_order_and_empty_cells_last() {
        let mut t = table();
        t.sort_by("test_acc").unwrap();
        let order: Vec<String> = t.rows.iter().map(|r| r[0].text()).collect();
        assert_eq!(order, ["t[c]", "t[a]", "t[b]"]);
        let err = t.sort_by("test_ac").unwrap_err().to_string();
        assert!(err.contains("did you mean `test_acc`"), "{err}");
    }

    #[test]
    fn only_changed_drops_the_columns_every_row_shares() {
        let mut t = table();
        for r in &mut t.rows {
            r[1] = Field::Text("fresh".into());
        }
        t.only_changed();
        assert_eq!(t.columns, ["instance", "method", "test_acc"]);
        assert_eq!(t.rows[1].len(), 3);
    }

    #[test]
    fn the_formats_carry_every_row_and_nulls_for_missing_metrics() {
        let t = table();
        assert_eq!(t.csv().lines().count(), 4);
        assert!(t.csv().contains("t[a],fresh,a,70.1"));
        let json: Value = serde_json::from_str(&t.json()).unwrap();
        assert_eq!(json[1]["test_acc"], Value::Null);
        assert_eq!(json[0]["test_acc"], serde_json::json!(70.1));
        assert_eq!(t.markdown().lines().count(), 5);
        assert!(t
            .text()
            .lines()
            .next()
            .unwrap()
            .starts_with("instance  state"));
    }

    #[test]
    fn numbers_read_as_numbers_whole_ones_as_integers_and_times_as_dates() {
        assert_eq!(Field::label("0"), Field::Integer(0));
        assert_eq!(Field::label("fm"), Field::Text("fm".into()));
        assert_eq!(Field::label("007"), Field::Text("007".into()));
        assert_eq!(number(&serde_json::json!(3)), Field::Integer(3));
        assert_eq!(number(&serde_json::json!(1.0)), Field::Number(1.0));
        assert_eq!(Field::Number(71.234567891234).text(), "71.23");
        assert_eq!(Field::Number(71.234567891234).csv(), "71.2345678912");
        let t = RunsTable {
            columns: vec!["seed".into(), "best_epoch".into()],
            rows: vec![vec![Field::label("1"), number(&serde_json::json!(2))]],
        };
        let json: Value = serde_json::from_str(&t.json()).unwrap();
        assert_eq!(json[0]["seed"], serde_json::json!(1));
        assert!(json[0]["best_epoch"].is_u64(), "{}", t.json());
        assert_eq!(utc(0), "1970-01-01 00:00Z");
        assert_eq!(utc(1_796_326_771), "2026-12-03 19:39Z");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00Z");
    }

    #[test]
    fn nested_parameters_flatten_to_dotted_names() {
        let mut out = BTreeMap::new();
        flatten(
            "",
            &serde_json::json!({"optim": {"lr": 0.1, "epochs": 8}, "arch": "vgg9-bn", "seed": null, "classes": [1, 2]}),
            &mut out,
        );
        assert_eq!(out["optim.lr"], "0.1");
        assert_eq!(out["arch"], "vgg9-bn");
        assert_eq!(out["classes"], "[1,2]");
        assert!(!out.contains_key("seed"));
    }
}
