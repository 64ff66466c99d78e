//! Canonical JSON, the bytes a cache key is hashed from. Object fields are sorted by name at
//! every depth, fields whose value is `null` (or an object left empty once its nulls are gone)
//! are dropped, so that a new optional option does not change old keys, and integral floats
//! are written as integers (`10.0` and `10` are the same parameter). Arrays keep their order
//! and their elements. No whitespace. Imports nothing from the crate.
use serde_json::{Map, Number, Value};

/// The largest integer below which every integer is exactly representable as an f64.
const EXACT_F64_INT: f64 = 9_007_199_254_740_992.0;

/// `v` with null (and empty-object) fields removed at every depth and integral floats turned
/// into integers; `None` when `v` itself is null or an object that ends up empty.
pub fn normalize(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(map) => {
            let mut out = Map::new();
            for (name, field) in map {
                if let Some(field) = normalize(field) {
                    out.insert(name.clone(), field);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .map(|item| normalize(item).unwrap_or(Value::Null))
                .collect(),
        )),
        Value::Number(n) => Some(Value::Number(normalize_number(n))),
        Value::Bool(_) | Value::String(_) => Some(v.clone()),
    }
}

fn normalize_number(n: &Number) -> Number {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < EXACT_F64_INT => {
            Number::from(f as i64)
        }
        _ => n.clone(),
    }
}

/// The canonical text of `v` (which should already be [`normalize`]d): sorted object fields,
/// no whitespace, serde_json's escaping and number formatting.
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

fn write(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut fields: Vec<(&String, &Value)> = map.iter().collect();
            fields.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (name, field)) in fields.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(name.clone()).to_string());
                out.push(':');
                write(field, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(v: Value) -> String {
        normalize(&v).map(|v| to_string(&v)).unwrap_or_default()
    }

    #[test]
    fn field_order_does_not_matter_at_any_depth() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": "s"}});
        let b = json!({"a": {"x": "s", "y": [1, 2]}, "b": 1});
        assert_eq!(canon(a.clone()), canon(b));
        assert_eq!(canon(a), r#"{"a":{"x":"s","y":[1,2]},"b":1}"#);
    }

    #[test]
    fn null_fields_and_objects_left_empty_are_dropped_but_array_elements_stay() {
        let v = json!({"a": null, "b": {"c": null}, "d": [null, {"e": null}], "f": 0});
        assert_eq!(canon(v), r#"{"d":[null,null],"f":0}"#);
        assert_eq!(normalize(&Value::Null), None);
    }

    #[test]
    fn integral_floats_are_integers_and_others_keep_their_shortest_form() {
        assert_eq!(canon(json!(10.0)), "10");
        assert_eq!(canon(json!(-0.0)), "0");
        assert_eq!(canon(json!(0.1)), "0.1");
        assert_eq!(canon(json!(1e300)), "1e+300");
        assert_eq!(canon(json!(u64::MAX)), u64::MAX.to_string());
    }

    #[test]
    fn strings_are_escaped_as_json() {
        assert_eq!(canon(json!({"k\"": "a\nb"})), r#"{"k\"":"a\nb"}"#);
    }
}
