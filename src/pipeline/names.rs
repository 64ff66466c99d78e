//! Names in a pipeline: valid stage names, the stage names an input parameter holds, and the
//! nearest valid name to a misspelt one (for "did you mean" in every error that names one).

pub use crate::yaml::nearest;

/// `did you mean …? (valid: …)` for a word among `candidates`.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> String {
    let list: Vec<&str> = candidates.clone().into_iter().collect();
    match nearest(word, candidates) {
        Some(n) => format!("did you mean `{n}`? (valid: {})", list.join(", ")),
        None => format!("valid: {}", list.join(", ")),
    }
}

/// The stage names in an input parameter's value (a name, or lists of names).
pub fn names_in(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items.iter().flat_map(names_in).collect(),
        _ => Vec::new(),
    }
}

/// Whether `s` is a valid stage or pipeline name (letters, digits, `-` and `_`).
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
