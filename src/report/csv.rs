//! A minimal CSV writer (RFC 4180 quoting) for the report's tidy tables; numbers are written
//! to 12 significant digits, far below any measured spread, so that a mean of accuracies reads
//! `50.7`, not the float noise `50.699999999999996`.

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

/// A number for CSV, to 12 significant digits (the shortest text of that rounding): empty
/// when absent or not finite.
pub fn number(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => {
            let rounded: f64 = format!("{x:.11e}")
                .parse()
                .expect("a formatted float parses");
            format!("{rounded}")
        }
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
    fn numbers_carry_no_float_noise_and_missing_ones_are_empty() {
        assert_eq!(number(Some((50.1 + 51.0 + 51.0) / 3.0)), "50.7");
        assert_eq!(number(Some(0.1 + 0.2)), "0.3");
        assert_eq!(number(Some(1.0 / 3.0)), "0.333333333333");
        assert_eq!(number(Some(-1234.5)), "-1234.5");
        assert_eq!(number(Some(2.5e-9)), "0.0000000025");
        assert_eq!(number(None), "");
        assert_eq!(number(Some(f64::NAN)), "");
    }
}
