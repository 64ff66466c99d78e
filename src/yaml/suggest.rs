//! The nearest valid name to a misspelt one, and "did you mean" for an unknown field of a typed
//! value: from the names serde lists (`expected one of …`) or, where a struct flattens others
//! and serde lists none, from the names the caller knows. Imports nothing from the crate.

use super::FieldError;

/// The nearest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The names between backticks in `text` (serde's `expected one of `a`, `b``).
fn quoted(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

impl FieldError {
    /// The unknown field this error is about, if it is about one.
    pub fn unknown_field(&self) -> Option<&str> {
        let rest = self.msg.strip_prefix("unknown field `")?;
        rest.split('`').next()
    }

    /// For an unknown field, the nearest valid name appended (`; did you mean `seed`?`) and,
    /// when serde listed none, the valid names: serde's own list where it gives one, else
    /// `names` (the fields of a struct that flattens others). Other errors are unchanged.
    pub fn suggest(mut self, names: &[&str]) -> FieldError {
        let Some(word) = self.unknown_field().map(str::to_string) else {
            return self;
        };
        let listed = self
            .msg
            .split_once("expected ")
            .map(|(_, tail)| quoted(tail))
            .unwrap_or_default();
        let (candidates, add_list) = if listed.is_empty() {
            (names.to_vec(), !names.is_empty())
        } else {
            (listed, false)
        };
        let mut hint = String::new();
        if let Some(n) = nearest(&word, candidates.iter().copied()) {
            hint.push_str(&format!("; did you mean `{n}`?"));
        }
        if add_list {
            hint.push_str(&format!(" (valid: {})", candidates.join(", ")));
        }
        self.msg.push_str(&hint);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_field_gets_the_nearest_name_from_serde_or_from_the_caller() {
        let e = FieldError::at(
            &["optim", "lrr"],
            "unknown field `lrr`, expected one of `epochs`, `lr`, `momentum`",
        );
        assert!(e.suggest(&[]).msg.ends_with("; did you mean `lr`?"));
        let e = FieldError::at(&["sed"], "unknown field `sed`").suggest(&["seed", "out"]);
        assert_eq!(
            e.msg,
            "unknown field `sed`; did you mean `seed`? (valid: seed, out)"
        );
        let e = FieldError::at(&["x"], "invalid type").suggest(&["seed"]);
        assert_eq!(e.msg, "invalid type");
        assert_eq!(nearest("dta", ["data", "out"]), Some("data"));
        assert_eq!(nearest("zzzzzz", ["data"]), None);
    }
}
