//! Labels of swept option sets (issue 13/12): two option sets of one method are two instances
//! with distinct labels — derived from their options or given with `label:` — and two values
//! that cannot be told apart are an error with the file, line and column, before anything runs.

use crate::pipeline::Project;
use crate::util::text;

const TWO_FMS: &str = r#"stages:
  data: {kind: dataset, dataset: fashion-mnist, from: ../idx, val-fraction: 0.2}
  src-data: {kind: subset, data: data, classes: [0, 1, 2, 3, 4], per-class: 8}
  tgt-data: {kind: subset, data: data, classes: [5, 6, 7, 8, 9], per-class: 6}
  source: {kind: train, data: src-data, arch: resnet8, optim: {epochs: 1}}
  target:
    kind: train
    data: tgt-data
    sources: [source]
    arch: resnet8
    method: METHODS
  table: {kind: report, runs: target, cols: method}
"#;

fn instances(p: &Project) -> String {
    let out = p.l2tww(&["dag", "pipelines/p.yaml", "--instances"]);
    let (o, e) = text(&out);
    assert!(out.status.success(), "{o}{e}");
    o
}

#[test]
fn two_option_sets_of_one_method_are_two_labelled_instances() {
    let p = Project::new(&TWO_FMS.replace("METHODS", "[fm, {fm: {pairs: all-to-all}}]"));
    let o = instances(&p);
    assert!(
        o.contains("target[method=fm]") && o.contains("target[method=fm(pairs=all-to-all)]"),
        "{o}"
    );
    p.write(&TWO_FMS.replace("METHODS", "[fm, {fm: {pairs: all-to-all}, label: fm-all}]"));
    let o = instances(&p);
    assert!(
        o.contains("target[method=fm]") && o.contains("target[method=fm-all]"),
        "{o}"
    );
}

#[test]
fn a_label_is_not_part_of_the_key() {
    let p = Project::new(&TWO_FMS.replace("METHODS", "[{fm: {pairs: all-to-all}, label: a}]"));
    // `dag --instances` lines read `  NAME [KEY] ← INPUTS`.
    let show = |p: &Project| {
        let o = instances(p);
        o.lines()
            .find(|l| l.trim_start().starts_with("target["))
            .and_then(|l| l.split("] [").nth(1))
            .map(|k| k.split(']').next().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    let before = show(&p);
    p.write(&TWO_FMS.replace("METHODS", "[{fm: {pairs: all-to-all}, label: b}]"));
    let after = show(&p);
    assert!(!before.is_empty() && before == after, "{before} vs {after}");
}

#[test]
fn values_that_cannot_be_told_apart_are_an_error_with_a_position() {
    let p = Project::new(&TWO_FMS.replace("METHODS", "[{fm: {beta: 1}}, {fm: {beta: 1}}]"));
    let out = p.l2tww(&["run", "pipelines/p.yaml", "--dry-run"]);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{o}{e}");
    assert!(
        e.contains("p.yaml:11:31:") && e.contains("`fm(beta=1)`") && e.contains("label"),
        "{e}"
    );
    p.write(&TWO_FMS.replace("METHODS", "[scratch, {fm: {}, label: scratch}]"));
    let (_, e) = text(&p.l2tww(&["run", "pipelines/p.yaml", "--dry-run"]));
    assert!(e.contains("the label `scratch`"), "{e}");
}

#[test]
fn every_baseline_of_a_list_is_checked_at_dry_run_with_its_position() {
    let good = TWO_FMS
        .replace(
            "METHODS",
            "[scratch, fm, {fm: {pairs: all-to-all}, label: fm-all}]",
        )
        .replace(
            "cols: method}",
            "cols: method, baseline: [scratch, fm-all]}",
        );
    let p = Project::new(&good);
    let out = p.l2tww(&["run", "pipelines/p.yaml", "--dry-run"]);
    let (o, e) = text(&out);
    assert!(out.status.success(), "{o}{e}");
    p.write(&good.replace("baseline: [scratch, fm-all]", "baseline: [scratch, fm-al]"));
    let out = p.l2tww(&["run", "pipelines/p.yaml", "--dry-run"]);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{o}{e}");
    // Line 12 holds the report; the second item of the list is the one named.
    assert!(e.contains("p.yaml:12:") && e.contains("fm-al"), "{e}");
    assert!(
        e.contains("fm-all"),
        "the values that exist are listed: {e}"
    );
}
