//! The order of a label's values in tables and legends: the values listed explicitly first (in
//! the listed order), then the others numerically when every value of the label is a number
//! (`25 < 100`), else in order of first appearance (the order the YAML listed the runs).

use crate::report::frame::Run;
use crate::report::spec::ReportSpec;
use std::cmp::Ordering;

/// The distinct `values` of one label, ordered: `explicit` first, then the rest.
pub fn order_values(values: &[String], explicit: Option<&[String]>) -> Vec<String> {
    let mut distinct: Vec<String> = Vec::new();
    for v in values {
        if !distinct.contains(v) {
            distinct.push(v.clone());
        }
    }
    if all_numeric(&distinct) {
        // A stable sort keeps first appearance among equal numbers ("50" and "50.0").
        distinct.sort_by(|a, b| number(a).total_cmp(&number(b)));
    }
    let mut out: Vec<String> = Vec::new();
    for v in explicit.unwrap_or(&[]) {
        if distinct.contains(v) && !out.contains(v) {
            out.push(v.clone());
        }
    }
    for v in distinct {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// The order of `label`'s values over `runs`, the ones the report's `order` lists first.
pub fn label_order(runs: &[Run], spec: &ReportSpec, label: &str) -> Vec<String> {
    let values: Vec<String> = runs.iter().map(|r| r.label(label).to_string()).collect();
    order_values(&values, spec.order.get(label).map(Vec::as_slice))
}

/// Whether every non-empty value parses as a number (and at least one does).
pub fn all_numeric(values: &[String]) -> bool {
    let mut any = false;
    for v in values.iter().filter(|v| !v.is_empty()) {
        if v.trim().parse::<f64>().is_err() {
            return false;
        }
        any = true;
    }
    any
}

/// The value as a number; empty or non-numeric text sorts last.
pub fn number(v: &str) -> f64 {
    v.trim().parse::<f64>().unwrap_or(f64::INFINITY)
}

/// Compares keys of several labels by the position of each part in its label's order.
pub fn compare_keys(a: &[String], b: &[String], orders: &[Vec<String>]) -> Ordering {
    for ((x, y), order) in a.iter().zip(b).zip(orders) {
        let px = order.iter().position(|v| v == x).unwrap_or(usize::MAX);
        let py = order.iter().position(|v| v == y).unwrap_or(usize::MAX);
        match px.cmp(&py) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn numbers_sort_as_numbers_not_as_text() {
        let got = order_values(&s(&["100", "25", "500", "25", "50"]), None);
        assert_eq!(got, s(&["25", "50", "100", "500"]));
    }

    #[test]
    fn text_keeps_the_order_of_first_appearance() {
        let got = order_values(&s(&["scratch", "l2t-ww", "at", "scratch"]), None);
        assert_eq!(got, s(&["scratch", "l2t-ww", "at"]));
    }

    #[test]
    fn an_explicit_order_comes_first_and_unknown_entries_are_ignored() {
        let explicit = s(&["at", "nope", "l2t-ww"]);
        let got = order_values(&s(&["scratch", "l2t-ww", "at"]), Some(&explicit));
        assert_eq!(got, s(&["at", "l2t-ww", "scratch"]));
    }

    #[test]
    fn one_word_among_numbers_makes_the_label_textual() {
        assert!(!all_numeric(&s(&["25", "all"])));
        assert!(all_numeric(&s(&["25", "", "1e3"])));
        assert!(!all_numeric(&s(&[""])));
    }

    #[test]
    fn keys_compare_label_by_label() {
        let orders = vec![s(&["25", "100"]), s(&["b", "a"])];
        let k = |x: &str, y: &str| s(&[x, y]);
        assert_eq!(
            compare_keys(&k("25", "a"), &k("100", "b"), &orders),
            Ordering::Less
        );
        assert_eq!(
            compare_keys(&k("25", "a"), &k("25", "b"), &orders),
            Ordering::Greater
        );
    }
}
