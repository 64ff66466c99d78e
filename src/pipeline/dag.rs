//! `l2tww dag`: the stage graph as text — each stage with its kind, its number of instances and
//! the stages it reads — or, with instances, every instance and its inputs; also Graphviz dot.

use super::plan::Plan;
use std::fmt::Write;

/// The graph as indented text.
pub fn text(plan: &Plan, instances: bool) -> String {
    let mut out = String::new();
    for &s in &plan.order {
        let st = &plan.spec.stages[s.0];
        let ids = &plan.by_stage[s.0];
        let reads: Vec<String> = st
            .params
            .iter()
            .filter(|(k, _, _)| st.kind.param(k).is_some_and(|p| p.is_input()))
            .map(|(k, _, v)| format!("{k}: {}", compact(&v.to_json())))
            .collect();
        let _ = writeln!(
            out,
            "{} ({}, {} instance{}){}",
            st.name,
            st.kind,
            ids.len(),
            if ids.len() == 1 { "" } else { "s" },
            if reads.is_empty() {
                String::new()
            } else {
                format!(" ← {}", reads.join("; "))
            }
        );
        if instances {
            for &i in ids {
                let inst = plan.instance(i);
                let ins: Vec<String> = inst
                    .upstream()
                    .map(|u| plan.instance(u).name.clone())
                    .collect();
                let _ = writeln!(
                    out,
                    "  {} [{}]{}",
                    inst.name,
                    inst.key.short(),
                    if ins.is_empty() {
                        String::new()
                    } else {
                        format!(" ← {}", ins.join(", "))
                    }
                );
            }
        }
    }
    out
}

/// The stage graph in Graphviz dot.
pub fn dot(plan: &Plan) -> String {
    let mut out = String::from("digraph pipeline {\n  rankdir=LR;\n");
    for st in &plan.spec.stages {
        let _ = writeln!(
            out,
            "  \"{}\" [label=\"{}\\n{}\"];",
            st.name, st.name, st.kind
        );
    }
    for st in &plan.spec.stages {
        for (k, _, v) in &st.params {
            if st.kind.param(k).is_some_and(|p| p.is_input()) {
                let mut names = Vec::new();
                collect_names(&v.to_json(), &mut names);
                for n in names {
                    let _ = writeln!(out, "  \"{n}\" -> \"{}\" [label=\"{k}\"];", st.name);
                }
            }
        }
    }
    out.push_str("}\n");
    out
}

fn collect_names(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) if !out.contains(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_names(x, out)),
        _ => {}
    }
}

fn compact(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
