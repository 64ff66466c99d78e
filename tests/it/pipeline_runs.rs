//! `l2tww runs`: the experiments table of a real tiny pipeline read from its cache — every
//! training instance with its labels, the parameters that differ, metrics equal to the runs'
//! summaries, and states that follow edits; CSV, JSON, Markdown, sorting and its errors.

use crate::pipeline::{yaml, Project};
use crate::util::text;

fn runs(p: &Project, extra: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut args = vec!["runs", "pipelines/p.yaml", "--csv"];
    args.extend(extra);
    let out = p.l2tww(&args);
    let (o, e) = text(&out);
    assert!(out.status.success(), "{o}{e}");
    let mut lines = o.lines().map(fields);
    let header = lines.next().unwrap();
    (header, lines.collect())
}

/// One CSV line's fields (instance names hold commas, so they come quoted).
fn fields(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[test]
fn the_runs_table_lists_every_training_with_its_metrics_and_state() {
    let p = Project::new(&yaml(1, "[0, 1]", 8));
    // Before anything ran there is no cache: that is said, none is made, and every training
    // is stale with no metrics.
    let out = p.l2tww(&["runs", "pipelines/p.yaml"]);
    let (_, e) = text(&out);
    assert!(
        out.status.success() && e.contains("there is no cache at"),
        "{e}"
    );
    assert!(!p.cache().exists());
    let (header, rows) = runs(&p, &[]);
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} in {header:?}"))
    };
    // source + 2 methods × 2 seeds.
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows.iter().all(|r| r[col("state")] == "stale"), "{rows:?}");
    assert!(rows.iter().all(|r| r[col("test_acc")].is_empty()));

    p.run();
    let (header, rows) = runs(&p, &["--sort-by", "test_acc"]);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert!(rows.iter().all(|r| r[col("state")] == "fresh"), "{rows:?}");
    // The method differs between the targets, so it is a column; the metrics are the summaries'.
    assert!(
        header.iter().any(|h| h.starts_with("params.method.")),
        "{header:?}"
    );
    assert!(
        !header.iter().any(|h| h == "params.arch"),
        "the same for all: {header:?}"
    );
    let accs: Vec<f64> = rows
        .iter()
        .map(|r| r[col("test_acc")].parse().unwrap())
        .collect();
    assert!(
        accs.windows(2).all(|w| w[0] <= w[1]),
        "not sorted: {accs:?}"
    );
    let summaries: Vec<f64> = walk_summaries(&p.cache());
    let mut sorted = summaries.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(
        accs, sorted,
        "the table's test_acc are not the runs' summaries"
    );

    // One more epoch for the targets: they are stale again, the source stays fresh.
    p.write(&yaml(2, "[0, 1]", 8));
    let (header, rows) = runs(&p, &[]);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let stale = rows.iter().filter(|r| r[col("state")] == "stale").count();
    assert_eq!(stale, 4, "{rows:?}");

    // The other formats and the errors.
    let json = p.l2tww(&["runs", "pipelines/p.yaml", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&text(&json).0).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 5);
    // Whole numbers are integers, a seed label a number, and the start time is given.
    let fresh = &v.as_array().unwrap()[0];
    assert!(fresh["best_epoch"].is_u64(), "{fresh}");
    let target = v.as_array().unwrap().iter().find(|r| r["seed"] == 1);
    assert!(target.is_some(), "{v}");
    assert!(
        fresh["started"].as_str().is_some_and(|s| s.ends_with('Z')),
        "{fresh}"
    );
    // The aligned table shows measured numbers to two decimals.
    let table = text(&p.l2tww(&["runs", "pipelines/p.yaml"])).0;
    let acc = fresh["test_acc"].as_f64().unwrap();
    assert!(table.contains(&format!("{acc:.2}")), "{table}");
    let md = p.l2tww(&["runs", "pipelines/p.yaml", "--md", "--only-changed"]);
    assert_eq!(text(&md).0.lines().count(), 2 + 5);
    let bad = p.l2tww(&["runs", "pipelines/p.yaml", "--sort-by", "test_ac"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad).1.contains("did you mean `test_acc`"),
        "{}",
        text(&bad).1
    );
}

/// The `test_acc` of every training's `summary.json` in the cache.
fn walk_summaries(cache: &std::path::Path) -> Vec<f64> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(cache.join("v1/entries")).unwrap() {
        let s = e.unwrap().path().join("out/summary.json");
        if let Ok(t) = std::fs::read_to_string(&s) {
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            out.push(v["test_acc"].as_f64().unwrap());
        }
    }
    out
}
