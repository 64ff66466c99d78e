//! The parameter tables checked against the parameters types: every parameter a table lists is
//! a field of the type and every field of the type is in the table; a list given to a scalar or
//! value parameter is refused by the type (so a list there can only be a sweep), and a list of
//! lists by a list parameter (so it can only be a sweep of lists).

use super::StageParams;
use crate::pipeline::kinds::{Kind, Shape, KIND_NAMES};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// An example value of every parameter that is not an input, by kind.
fn examples(kind: Kind) -> Vec<(&'static str, Value)> {
    match kind {
        Kind::Dataset => vec![
            ("dataset", json!("cifar10")),
            ("from", json!("download")),
            ("splits", json!("/splits")),
            ("val-fraction", json!(0.2)),
            ("seed", json!(3)),
        ],
        Kind::Subset => vec![
            ("classes", json!([1, 2])),
            ("per-class", json!(5)),
            ("val-per-class", json!(4)),
            ("test-per-class", json!(3)),
            ("seed", json!(1)),
        ],
        Kind::Train => vec![
            ("arch", json!("resnet8")),
            ("method", json!({"fm": {"beta": 1.0}})),
            ("optim", json!({"epochs": 2})),
            ("eval", json!({"test": "every-epoch"})),
            ("seed", json!(1)),
            ("classes", json!([0, 1])),
            ("per-class", json!(5)),
            ("subset-seed", json!(2)),
            ("batch", json!(8)),
            ("augment", json!("none")),
            ("resize-to", json!(32)),
            ("precision", json!("f64")),
            ("loader-threads", json!(2)),
        ],
        Kind::Import => vec![("checkpoint", json!("/c.safetensors"))],
        Kind::SourceStats => vec![
            ("split", json!("val")),
            ("classes", json!([0])),
            ("per-class", json!(2)),
            ("seed", json!(1)),
            ("batch", json!(4)),
            ("resize-to", json!(32)),
            ("normalize", json!(false)),
            ("crop", json!("imagenet224")),
            ("taps", json!(["block1"])),
        ],
        Kind::Report => vec![
            ("rows", json!(["a"])),
            ("cols", json!(["b"])),
            ("value", json!("best_epoch")),
            ("order", json!({"a": ["1"]})),
            ("baseline", json!("none")),
            ("replicates", json!("training seeds")),
            ("plot", json!({"x": "a", "line": "b"})),
        ],
    }
}

fn full(kind: Kind) -> Map<String, Value> {
    examples(kind)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

#[test]
fn every_table_matches_its_parameters_type() {
    for name in KIND_NAMES {
        let kind: Kind = name.parse().unwrap();
        let listed: BTreeSet<&str> = kind
            .params()
            .iter()
            .filter(|p| !p.is_input())
            .map(|p| p.name)
            .collect();
        let examples: BTreeSet<&str> = examples(kind).iter().map(|(k, _)| *k).collect();
        assert_eq!(listed, examples, "{kind}: the examples cover the table");
        let p = StageParams::parse(kind, &full(kind))
            .unwrap_or_else(|e| panic!("{kind}: every listed parameter is a field: {e:?}"));
        let Value::Object(fields) = serde_json::to_value(&p).unwrap()["params"].clone() else {
            panic!("{kind}: parameters serialise as a map")
        };
        let fields: BTreeSet<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(fields, listed, "{kind}: every field is in the table");
    }
}

#[test]
fn a_list_is_a_sweep_only_where_the_type_cannot_take_it() {
    for name in KIND_NAMES {
        let kind: Kind = name.parse().unwrap();
        for (param, example) in examples(kind) {
            let shape = kind.param(param).unwrap().shape;
            let listed = match shape {
                Shape::Scalar | Shape::Value => json!([example.clone()]),
                Shape::List => json!([example.clone(), example.clone()]),
                _ => continue,
            };
            let mut doc = full(kind);
            doc.insert(param.to_string(), listed);
            assert!(
                StageParams::parse(kind, &doc).is_err(),
                "{kind}: `{param}` ({shape:?}) takes a list, which would read as a sweep"
            );
        }
    }
}
