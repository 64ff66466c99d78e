//! What a report shows, as the pipeline's YAML `report` stage writes it:
//!
//! ```yaml
//! rows: [per_class]
//! cols: [method]
//! value: test_acc            # the default
//! order: {method: [scratch, l2t-ww]}
//! baseline: scratch          # or {method: scratch}; the default when a column is `scratch`
//! plot: {x: per_class, line: method}
//! ```
//!
//! Owns the serde structs only; the table and the plots read them.

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// The number a table cell aggregates: one of a run's summary numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// Test accuracy at the best validation epoch (%): the reported result.
    #[default]
    TestAcc,
    /// Best validation accuracy (%).
    BestValAcc,
    /// Test accuracy after the last epoch (%).
    FinalTestAcc,
    /// The best validation epoch.
    BestEpoch,
    /// Total training time (s), the sum over the epochs.
    Seconds,
}

impl Value {
    /// Every value, in the order of the runs table's columns.
    pub const ALL: [Value; 5] = [
        Value::TestAcc,
        Value::BestValAcc,
        Value::FinalTestAcc,
        Value::BestEpoch,
        Value::Seconds,
    ];

    /// The column name (`test_acc`, …), as written in the YAML.
    pub fn column(self) -> &'static str {
        match self {
            Value::TestAcc => "test_acc",
            Value::BestValAcc => "best_val_acc",
            Value::FinalTestAcc => "final_test_acc",
            Value::BestEpoch => "best_epoch",
            Value::Seconds => "seconds",
        }
    }

    /// What the number is, for headers and axis titles.
    pub fn title(self) -> &'static str {
        match self {
            Value::TestAcc => "test accuracy (%) at the best validation epoch",
            Value::BestValAcc => "best validation accuracy (%)",
            Value::FinalTestAcc => "test accuracy (%) after the last epoch",
            Value::BestEpoch => "best validation epoch",
            Value::Seconds => "training time (s)",
        }
    }

    /// Decimals shown in the Markdown table.
    pub fn decimals(self) -> usize {
        match self {
            Value::TestAcc | Value::BestValAcc | Value::FinalTestAcc => 2,
            Value::BestEpoch | Value::Seconds => 1,
        }
    }
}

/// The report stage's parameters.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReportSpec {
    /// Labels whose values make the table's rows (one Markdown column each).
    #[serde(default)]
    pub rows: Vec<String>,
    /// Labels whose values make the table's columns.
    #[serde(default)]
    pub cols: Vec<String>,
    /// The aggregated number (default `test_acc`).
    #[serde(default)]
    pub value: Value,
    /// An explicit order of values per label (numbers may be written bare: `[25, 100]`);
    /// values not listed follow in the default order.
    #[serde(default, deserialize_with = "scalar_lists")]
    pub order: BTreeMap<String, Vec<String>>,
    /// What every run is compared with in the paired table: a value of the one column label
    /// (`scratch`) or label values (`{method: scratch}`). Default: `scratch`, when the one
    /// column label has it; `none` for no paired table.
    #[serde(default)]
    pub baseline: Option<BaselineSpec>,
    /// What the runs of one cell are, said in the tables' header line (`training seed and
    /// subset draw`): a reader should not have to guess what a replicate varies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicates: Option<String>,
    /// The plots; none without it.
    #[serde(default)]
    pub plot: Option<PlotSpec>,
}

/// Why a list inside a baseline list is refused.
pub const NESTED_BASELINE_LIST: &str = "a baseline list holds values or label maps, not lists";

/// A report's baseline as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BaselineSpec {
    /// A value of the one column label (`none`: no paired table).
    Value(String),
    /// Label values.
    #[serde(deserialize_with = "scalar_map_plain")]
    Labels(BTreeMap<String, String>),
    /// Several baselines, each with its own paired table (`[scratch, fm-all-to-all]`); the
    /// first is the one `paired.png` draws.
    List(Vec<BaselineSpec>),
}

impl BaselineSpec {
    /// The baseline as label values, given the table's column labels; None for `none`.
    pub fn resolve(&self, cols: &[String]) -> Result<Option<BTreeMap<String, String>>, String> {
        match self {
            BaselineSpec::Value(v) if v == "none" => Ok(None),
            BaselineSpec::Value(v) => match cols {
                [col] => Ok(Some(BTreeMap::from([(col.clone(), v.clone())]))),
                _ => Err(format!(
                    "`baseline: {v}` names a value of the one column label, but the table has {} \
                     column labels; write `baseline: {{label: value}}`",
                    cols.len()
                )),
            },
            BaselineSpec::Labels(m) => Ok(Some(m.clone())),
            BaselineSpec::List(list) => Ok(Self::resolve_all_of(list, cols)?.into_iter().next()),
        }
    }

    /// Every baseline as label values, in the order written (none for `none`).
    pub fn resolve_all(&self, cols: &[String]) -> Result<Vec<BTreeMap<String, String>>, String> {
        match self {
            BaselineSpec::List(list) => Self::resolve_all_of(list, cols),
            one => Ok(one.resolve(cols)?.into_iter().collect()),
        }
    }

    fn resolve_all_of(
        list: &[BaselineSpec],
        cols: &[String],
    ) -> Result<Vec<BTreeMap<String, String>>, String> {
        let mut out = Vec::new();
        for b in list {
            if matches!(b, BaselineSpec::List(_)) {
                return Err(NESTED_BASELINE_LIST.into());
            }
            out.extend(b.resolve(cols)?);
        }
        Ok(out)
    }
}

/// Which labels the plots use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PlotSpec {
    /// The numeric label on the x axis of `accuracy.png` (e.g. `per_class`).
    pub x: String,
    /// The label that makes one line per value (e.g. `method`).
    pub line: String,
    /// The runs whose λ and entropy curves are drawn (averaged over them), as label values
    /// (`{method: l2t-ww, per_class: 50}`). Without it: the runs of the first run's table
    /// cell that has λ statistics.
    #[serde(default, deserialize_with = "scalar_map")]
    pub curves: Option<BTreeMap<String, String>>,
}

/// A YAML scalar read as text, so that `25`, `0.5`, `true` and `l2t-ww` are all label values.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn text(self) -> String {
        match self {
            Scalar::Text(s) => s,
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

fn scalar_lists<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    let raw = BTreeMap::<String, Vec<Scalar>>::deserialize(d)?;
    Ok(raw
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().map(Scalar::text).collect()))
        .collect())
}

fn scalar_map_plain<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let raw = BTreeMap::<String, Scalar>::deserialize(d)?;
    Ok(raw.into_iter().map(|(k, v)| (k, v.text())).collect())
}

fn scalar_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    let raw = Option::<BTreeMap<String, Scalar>>::deserialize(d)?;
    Ok(raw.map(|m| m.into_iter().map(|(k, v)| (k, v.text())).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_reads_from_yaml_with_bare_numbers_in_the_order() {
        let spec: ReportSpec = serde_yaml_ng::from_str(
            "rows: [per_class]\ncols: [method]\norder: {per_class: [100, 25], method: [b, a]}\n\
             plot: {x: per_class, line: method, curves: {per_class: 50}}\n",
        )
        .unwrap();
        assert_eq!(spec.value, Value::TestAcc);
        assert_eq!(spec.order["per_class"], ["100", "25"]);
        let plot = spec.plot.unwrap();
        assert_eq!(plot.curves.unwrap()["per_class"], "50");
    }

    #[test]
    fn a_baseline_is_a_column_value_or_label_values() {
        let cols = vec!["method".to_string()];
        let spec: ReportSpec = serde_yaml_ng::from_str("baseline: fm").unwrap();
        let b = spec.baseline.unwrap().resolve(&cols).unwrap().unwrap();
        assert_eq!(b["method"], "fm");
        let spec: ReportSpec =
            serde_yaml_ng::from_str("baseline: {method: scratch, per-class: 50}").unwrap();
        let b = spec.baseline.unwrap().resolve(&[]).unwrap().unwrap();
        assert_eq!(
            (b["method"].as_str(), b["per-class"].as_str()),
            ("scratch", "50")
        );
        let spec: ReportSpec = serde_yaml_ng::from_str("baseline: none").unwrap();
        assert_eq!(spec.baseline.unwrap().resolve(&cols).unwrap(), None);
        let two = vec!["a".to_string(), "b".to_string()];
        let spec: ReportSpec = serde_yaml_ng::from_str("baseline: fm").unwrap();
        assert!(spec.baseline.unwrap().resolve(&two).is_err());
        let spec: ReportSpec =
            serde_yaml_ng::from_str("baseline: [scratch, {method: fm}]").unwrap();
        let all = spec.baseline.unwrap().resolve_all(&cols).unwrap();
        assert_eq!(
            all.iter().map(|b| b["method"].as_str()).collect::<Vec<_>>(),
            ["scratch", "fm"]
        );
        let spec: ReportSpec = serde_yaml_ng::from_str("baseline: [[scratch]]").unwrap();
        assert!(spec.baseline.unwrap().resolve_all(&cols).is_err());
    }

    #[test]
    fn unknown_fields_and_values_are_refused() {
        let err = serde_yaml_ng::from_str::<ReportSpec>("rowz: [a]").unwrap_err();
        assert!(err.to_string().contains("rowz"), "{err}");
        let err = serde_yaml_ng::from_str::<ReportSpec>("value: accuracy").unwrap_err();
        assert!(err.to_string().contains("test_acc"), "{err}");
    }

    #[test]
    fn every_value_names_its_column() {
        for v in Value::ALL {
            let yaml = format!("value: {}", v.column());
            assert_eq!(
                serde_yaml_ng::from_str::<ReportSpec>(&yaml).unwrap().value,
                v
            );
        }
    }
}
