//! Range checks of typed option values, each a [`FieldError`] at the option's name that says
//! the allowed range and the value given (`` `meta-lr`: must be a finite number > 0, got -0.1 ``).
//! Options structs check their fields with these and prefix the path where they are nested
//! ([`FieldError::within`]). Imports nothing from the crate.

use super::FieldError;

/// Checks within one options struct: `Ok` or the first offending field.
pub type Checked = Result<(), FieldError>;

/// A whole number of at least `min`.
pub fn at_least(name: &str, value: usize, min: usize) -> Checked {
    if value >= min {
        return Ok(());
    }
    Err(FieldError::at(
        &[name],
        format!(
            "must be at least {min} (allowed: {min}, {}, …), got {value}",
            min + 1
        ),
    ))
}

/// An optional whole number of at least `min` when given.
pub fn at_least_if(name: &str, value: Option<usize>, min: usize) -> Checked {
    value.map_or(Ok(()), |v| at_least(name, v, min))
}

/// A finite number above zero.
pub fn positive(name: &str, value: f64) -> Checked {
    if value.is_finite() && value > 0.0 {
        return Ok(());
    }
    Err(FieldError::at(
        &[name],
        format!("must be a finite number > 0, got {value}"),
    ))
}

/// A finite number of zero or more.
pub fn non_negative(name: &str, value: f64) -> Checked {
    if value.is_finite() && value >= 0.0 {
        return Ok(());
    }
    Err(FieldError::at(
        &[name],
        format!("must be a finite number ≥ 0, got {value}"),
    ))
}

/// A finite number of any sign.
pub fn finite(name: &str, value: f64) -> Checked {
    if value.is_finite() {
        return Ok(());
    }
    Err(FieldError::at(
        &[name],
        format!("must be a finite number, got {value}"),
    ))
}

/// A finite number in `[0, 1)`.
pub fn fraction(name: &str, value: f64) -> Checked {
    if (0.0..1.0).contains(&value) {
        return Ok(());
    }
    Err(FieldError::at(
        &[name],
        format!("must be in [0, 1), got {value}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_names_the_field_the_range_and_the_value() {
        let e = at_least("T", 0, 1).unwrap_err();
        assert_eq!(
            e.shown(),
            "`T`: must be at least 1 (allowed: 1, 2, …), got 0"
        );
        let e = positive("lr", -0.05).unwrap_err();
        assert_eq!(e.shown(), "`lr`: must be a finite number > 0, got -0.05");
        assert!(positive("lr", f64::NAN).is_err() && positive("lr", 0.0).is_err());
        assert!(non_negative("wd", 0.0).is_ok() && non_negative("wd", -1e-9).is_err());
        assert!(non_negative("wd", f64::INFINITY).is_err());
        assert!(fraction("m", 0.9).is_ok() && fraction("m", 1.0).is_err());
        assert!(finite("x", -3.0).is_ok() && finite("x", f64::NAN).is_err());
        assert!(at_least_if("n", None, 1).is_ok() && at_least_if("n", Some(0), 1).is_err());
        let e = positive("meta-lr", -0.1)
            .map_err(|e| e.within(&["method", "l2t-ww"]))
            .unwrap_err();
        assert_eq!(e.path, ["method", "l2t-ww", "meta-lr"]);
    }
}
