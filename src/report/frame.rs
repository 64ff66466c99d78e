//! Finished runs as a polars DataFrame: one row per run, one string column per label (empty
//! where a run lacks the label), then `test_acc`, `best_val_acc`, `final_test_acc`,
//! `best_epoch` and `seconds` (the sum over the epochs) from the run's `summary.json`.

use crate::error::{Error, Result};
use crate::fsx;
use crate::report::spec::Value;
use crate::report::RunRef;
use crate::transfer::record::RunSummary;
use polars::prelude::{Column, DataFrame, PolarsError};
use std::collections::BTreeSet;
use std::path::Path;

/// A run with its summary read.
#[derive(Debug, Clone)]
pub struct Run {
    /// Where it came from, with its labels.
    pub at: RunRef,
    /// Its `summary.json`.
    pub summary: RunSummary,
}

impl Run {
    /// The run's number for `value`.
    pub fn value(&self, value: Value) -> f64 {
        let s = &self.summary;
        match value {
            Value::TestAcc => s.test_acc,
            Value::BestValAcc => s.best_val_acc,
            Value::FinalTestAcc => s.final_test_acc,
            Value::BestEpoch => s.best_epoch as f64,
            Value::Seconds => s.epochs.iter().map(|e| e.seconds).sum(),
        }
    }

    /// The run's value of `label`, empty when it has none.
    pub fn label(&self, label: &str) -> &str {
        self.at.labels.get(label).map_or("", String::as_str)
    }
}

/// Reads the `summary.json` of every run; an error names the file.
pub fn load_runs(runs: &[RunRef]) -> Result<Vec<Run>> {
    runs.iter()
        .map(|r| {
            let path = r.dir.join("summary.json");
            let text = fsx::read_to_string(&path)?;
            let summary: RunSummary = serde_json::from_str(&text).map_err(|e| {
                Error::bad_file(&path, format!("not a run summary (summary.json): {e}"))
            })?;
            Ok(Run {
                at: r.clone(),
                summary,
            })
        })
        .collect()
}

/// Every label name that some run has, sorted.
pub fn label_names(runs: &[Run]) -> Vec<String> {
    let names: BTreeSet<&String> = runs.iter().flat_map(|r| r.at.labels.keys()).collect();
    names.into_iter().cloned().collect()
}

/// Checks that every label in `wanted` is held by some run, and that no label shadows a value
/// column; the error lists the labels that exist.
pub fn check_labels(runs: &[Run], wanted: &[&str]) -> Result<()> {
    let names = label_names(runs);
    if let Some(clash) = names
        .iter()
        .find(|n| Value::ALL.iter().any(|v| v.column() == n.as_str()) || *n == "dir")
    {
        return Err(Error::Invalid(format!(
            "the run label `{clash}` has the name of a report column; rename the label"
        )));
    }
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !names.iter().any(|n| n == w))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let have = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    Err(Error::Invalid(format!(
        "the report names the label(s) {} that no run has; the runs' labels are: {have}",
        missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// The runs as a DataFrame: the label columns (sorted by name), the value columns, `dir`.
pub fn runs_frame(runs: &[Run]) -> Result<DataFrame> {
    let mut cols: Vec<Column> = Vec::new();
    for name in label_names(runs) {
        let values: Vec<&str> = runs.iter().map(|r| r.label(&name)).collect();
        cols.push(Column::new(name.as_str().into(), values));
    }
    for v in Value::ALL {
        let values: Vec<f64> = runs.iter().map(|r| r.value(v)).collect();
        cols.push(Column::new(v.column().into(), values));
    }
    let dirs: Vec<String> = runs.iter().map(|r| dir_text(&r.at.dir)).collect();
    cols.push(Column::new("dir".into(), dirs));
    DataFrame::new(runs.len(), cols).map_err(polars_error)
}

fn dir_text(dir: &Path) -> String {
    dir.display().to_string()
}

/// A polars error as the crate's error.
pub fn polars_error(e: PolarsError) -> Error {
    Error::Invalid(format!("report table (polars): {e}"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::transfer::record::EpochRecord;
    use std::path::PathBuf;

    pub(crate) fn run(labels: &[(&str, &str)], test_acc: f64) -> Run {
        let epoch = EpochRecord {
            epoch: 0,
            lr: 0.1,
            train_loss: 1.0,
            train_acc: 50.0,
            val_acc: 40.0,
            test_acc: Some(test_acc),
            seconds: 2.5,
            terms: Default::default(),
            stats: Default::default(),
        };
        Run {
            at: RunRef {
                labels: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                dir: PathBuf::from("/runs/x"),
                provenance: Default::default(),
            },
            summary: RunSummary::from_epochs("scratch", 0, "cpu", vec![epoch.clone(), epoch]),
        }
    }

    #[test]
    fn the_frame_has_one_row_per_run_and_empty_text_for_missing_labels() {
        let runs = vec![run(&[("a", "1")], 10.0), run(&[("b", "x")], 20.0)];
        let df = runs_frame(&runs).unwrap();
        assert_eq!(df.height(), 2);
        assert_eq!(df.column("b").unwrap().str().unwrap().get(0), Some(""));
        let secs = df.column("seconds").unwrap().f64().unwrap().get(1);
        assert_eq!(secs, Some(5.0));
    }

    #[test]
    fn a_missing_label_is_named_with_the_labels_that_exist() {
        let runs = vec![run(&[("method", "a"), ("seed", "0")], 1.0)];
        let err = check_labels(&runs, &["method", "per_class"]).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("`per_class`") && msg.contains("method, seed"),
            "{msg}"
        );
    }

    #[test]
    fn a_label_named_like_a_value_column_is_refused() {
        let runs = vec![run(&[("seconds", "1")], 1.0)];
        assert!(check_labels(&runs, &[]).is_err());
    }
}
