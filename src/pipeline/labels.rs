//! The labels of swept values: a plain label per value (`fm`, `50`, `a+b` for a list of stage
//! names), an explicit `label:` beside an option set (`{fm: {pairs: all-to-all}, label: fm-all}`,
//! taken out of the parameters so that a label never enters a key), and, where two option sets
//! of one method would share a plain label, the options spelt out (`fm(pairs=all-to-all)`); and
//! [`Labels`], an instance's sweep coordinates, as the planner, the stages and the executor
//! hold them.

use serde_json::Value as J;

/// Sweep coordinates of an instance, in the order they were added.
pub type Labels = Vec<(String, String)>;

/// The plain label of a value: a string as it is, a list joined with `+` (`none` when empty),
/// a one-key map by its key.
pub fn label_of(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        J::Array(items) if items.is_empty() => "none".to_string(),
        J::Array(items) => items.iter().map(label_of).collect::<Vec<_>>().join("+"),
        J::Object(m) if m.len() == 1 => m.keys().next().cloned().unwrap_or_default(),
        other => other.to_string(),
    }
}

/// The key of a sweep item that names its label (`{fm: {pairs: all-to-all}, label: fm-all}`);
/// it is taken out of the parameters, so a label never enters a key.
const LABEL_KEY: &str = "label";

/// A sweep item's explicit label, removed from the item.
pub fn take_label(v: &mut J) -> Option<String> {
    match v {
        J::Object(m) if m.len() > 1 => match m.remove(LABEL_KEY) {
            Some(J::String(s)) => Some(s),
            Some(other) => Some(label_of(&other)),
            None => None,
        },
        _ => None,
    }
}

/// The label of a one-key map with its options spelt out (`fm(pairs=all-to-all)`), for sweep
/// items whose plain labels would collide.
fn detailed_label_of(v: &J) -> String {
    match v {
        J::Object(m) if m.len() == 1 => {
            let (name, opts) = m.iter().next().expect("one key");
            match opts {
                J::Object(o) if !o.is_empty() => {
                    let parts: Vec<String> = o
                        .iter()
                        .map(|(k, v)| format!("{k}={}", label_of(v)))
                        .collect();
                    format!("{name}({})", parts.join(";"))
                }
                _ => name.clone(),
            }
        }
        other => label_of(other),
    }
}

/// The labels of a sweep's items: an explicit `label:`, else the plain label, with the options
/// spelt out where plain labels collide. Two items with one label are an error (the index of
/// the second and the label).
pub fn sweep_labels(items: &mut [J]) -> std::result::Result<Vec<String>, (usize, String)> {
    let explicit: Vec<Option<String>> = items.iter_mut().map(take_label).collect();
    let plain: Vec<String> = items.iter().map(label_of).collect();
    let labels: Vec<String> = items
        .iter()
        .zip(&explicit)
        .zip(&plain)
        .map(|((v, e), p)| match e {
            Some(e) => e.clone(),
            None if explicit.iter().flatten().any(|x| x == p)
                || plain.iter().filter(|q| *q == p).count() > 1 =>
            {
                detailed_label_of(v)
            }
            None => p.clone(),
        })
        .collect();
    for (i, l) in labels.iter().enumerate() {
        if labels[..i].contains(l) {
            return Err((i, l.clone()));
        }
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_values_keep_their_plain_labels() {
        let mut items = vec![
            json!("scratch"),
            json!({"fm": {}}),
            json!({"l2t-ww": {"T": 2}}),
        ];
        assert_eq!(
            sweep_labels(&mut items).unwrap(),
            ["scratch", "fm", "l2t-ww"]
        );
    }

    #[test]
    fn two_option_sets_of_one_method_get_distinct_labels() {
        let mut items = vec![json!("fm"), json!({"fm": {"pairs": "all-to-all"}})];
        assert_eq!(
            sweep_labels(&mut items).unwrap(),
            ["fm", "fm(pairs=all-to-all)"]
        );
        let mut items = vec![
            json!({"l2t-ww": {"meta-lr": 0.001, "T": 1}}),
            json!({"l2t-ww": {}}),
        ];
        assert_eq!(
            sweep_labels(&mut items).unwrap(),
            ["l2t-ww(T=1;meta-lr=0.001)", "l2t-ww"]
        );
    }

    #[test]
    fn an_explicit_label_wins_and_leaves_the_options() {
        let mut items = vec![
            json!("fm"),
            json!({"fm": {"pairs": "all-to-all"}, "label": "fm-all"}),
        ];
        assert_eq!(sweep_labels(&mut items).unwrap(), ["fm", "fm-all"]);
        assert_eq!(items[1], json!({"fm": {"pairs": "all-to-all"}}));
    }

    #[test]
    fn values_that_cannot_be_told_apart_are_an_error_naming_the_second() {
        let mut items = vec![json!({"fm": {"beta": 1}}), json!({"fm": {"beta": 1}})];
        assert_eq!(sweep_labels(&mut items), Err((1, "fm(beta=1)".to_string())));
        let mut items = vec![json!("fm"), json!({"at": {}, "label": "fm"})];
        assert_eq!(sweep_labels(&mut items), Err((1, "fm".to_string())));
    }
}
