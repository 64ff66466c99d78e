//! How a kind's `defaults` combine with a stage's own value of a parameter, by the parameter's
//! [`Merge`] rule: mappings of fields (`optim`, `eval`, a report's `plot`) merge key by key at
//! every depth, so `optim: {epochs: 2}` keeps a default `weight-decay`; a variant (`method:
//! {l2t-ww: {…}}`) merges its options with the default's only when both name the same variant;
//! anything else (a scalar, a list, a sweep) replaces the default. Every value keeps its own
//! position, so an error still points at the line it was written on.

use super::kinds::{Merge, Param};
use crate::yaml::{Node, Value};

/// The stage's value `own` of `param` over the default `default`.
pub fn merge(param: &Param, default: &Node, own: &Node) -> Node {
    match param.merge {
        Merge::Replace => own.clone(),
        Merge::Fields => fields(default, own),
        Merge::Variant => match (default.as_map(), own.as_map()) {
            (Some([(dk, _, dv)]), Some([(ok, kpos, ov)])) if dk == ok => Node {
                pos: own.pos,
                value: Value::Map(vec![(ok.clone(), *kpos, fields(dv, ov))]),
            },
            _ => own.clone(),
        },
    }
}

/// Two mappings merged key by key at every depth (`own` wins); otherwise `own`.
fn fields(default: &Node, own: &Node) -> Node {
    let (Value::Map(d), Value::Map(o)) = (&default.value, &own.value) else {
        return own.clone();
    };
    let mut out: Vec<_> = o
        .iter()
        .map(|(k, pos, v)| match d.iter().find(|(dk, _, _)| dk == k) {
            Some((_, _, dv)) => (k.clone(), *pos, fields(dv, v)),
            None => (k.clone(), *pos, v.clone()),
        })
        .collect();
    for entry in d {
        if !o.iter().any(|(k, _, _)| *k == entry.0) {
            out.push(entry.clone());
        }
    }
    Node {
        pos: own.pos,
        value: Value::Map(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::kinds::Shape;
    use serde_json::json;

    fn node(text: &str) -> Node {
        crate::yaml::parse(text).unwrap()
    }

    fn merged(rule: Merge, default: &str, own: &str) -> serde_json::Value {
        let p = Param::new("x", Shape::Value).merged(rule);
        merge(&p, &node(default), &node(own)).to_json()
    }

    #[test]
    fn fields_merge_key_by_key_at_every_depth() {
        assert_eq!(
            merged(
                Merge::Fields,
                "{lr: 0.1, weight-decay: 0.0005}",
                "{epochs: 2, lr: 0.2}"
            ),
            json!({"epochs": 2, "lr": 0.2, "weight-decay": 0.0005})
        );
        assert_eq!(
            merged(
                Merge::Fields,
                "{curves: {method: fm}, x: a}",
                "{curves: {seed: 1}}"
            ),
            json!({"curves": {"seed": 1, "method": "fm"}, "x": "a"})
        );
        assert_eq!(
            merged(Merge::Fields, "{lr: 0.1}", "[{lr: 1}]"),
            json!([{"lr": 1}])
        );
    }

    #[test]
    fn a_variant_merges_only_with_the_same_variant_and_other_values_replace() {
        assert_eq!(
            merged(
                Merge::Variant,
                "{l2t-ww: {T: 3}}",
                "{l2t-ww: {meta-lr: 0.01}}"
            ),
            json!({"l2t-ww": {"meta-lr": 0.01, "T": 3}})
        );
        assert_eq!(
            merged(Merge::Variant, "{l2t-ww: {T: 3}}", "{fm: {}}"),
            json!({"fm": {}})
        );
        assert_eq!(merged(Merge::Variant, "{fm: {beta: 1}}", "fm"), json!("fm"));
        assert_eq!(merged(Merge::Replace, "{a: 1}", "{b: 2}"), json!({"b": 2}));
    }
}
