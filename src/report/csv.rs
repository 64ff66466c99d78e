//! A minimal CSV writer (RFC 4180 quoting) for the report's tidy tables; numbers are written
//! with Rust's shortest round-trip formatting so that they parse back to the same `f64`.

/// Builds CSV text row by row.
#[derive(Debug, Default)]
pub struct CsvText {
    text: String,
}

impl CsvText {
    /// A table with the given header.
    pub fn with_header<S: AsRef<str>>(header: &[S]) -> Self {
        let mut out = CsvText::default();
        out.row(header);
        out
    }

    /// Appends one row.
    pub fn row<S: AsRef<str>>(&mut self, fields: &[S]) {
        let line: Vec<String> = fields.iter().map(|f| quote(f.as_ref())).collect();
        self.text.push_str(&line.join(","));
        self.text.push('\n');
    }

    /// The finished text.
    pub fn into_string(self) -> String {
        self.text
    }
}

/// A field, quoted when it holds a comma, a quote or a line break.
pub fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// A number for CSV: empty when absent or not finite.
pub fn number(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x}"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_or_quotes_are_quoted() {
        let mut csv = CsvText::with_header(&["a", "b"]);
        csv.row(&["x,y", "say \"hi\""]);
        assert_eq!(csv.into_string(), "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n");
    }

    #[test]
    fn numbers_round_trip_and_missing_ones_are_empty() {
        let x = 0.1 + 0.2;
        assert_eq!(number(Some(x)).parse::<f64>().unwrap(), x);
        assert_eq!(number(None), "");
        assert_eq!(number(Some(f64::NAN)), "");
    }
}
