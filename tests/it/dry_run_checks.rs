//! What `l2tww run --dry-run` checks before anything runs: every number of every stage and
//! method option in its range (exit 2, at `file:line:column`, with the option's path and the
//! allowed range), the device asked for, and the inputs that are not on this machine (said with
//! their position; the file still validates, and a real run stops before starting).

use crate::issue13::Proj;
use crate::util::text;

/// `src` (a source) and `t`, a target trained from it with the parameters `params`.
fn target(params: &str) -> String {
    format!(
        "  src: {{kind: train, data: data, arch: resnet8}}\n  \
         t: {{kind: train, data: data, sources: [src], arch: resnet8, {params}}}\n"
    )
}

/// The line and column (1-based) where `needle` starts in the project's pipeline file.
fn place(p: &Proj, needle: &str) -> (usize, usize) {
    let text = std::fs::read_to_string(p.dir().join("pipelines/p.yaml")).unwrap();
    text.lines()
        .enumerate()
        .find_map(|(i, l)| l.find(needle).map(|c| (i + 1, c + 1)))
        .unwrap_or_else(|| panic!("no {needle} in:\n{text}"))
}

/// The dry run fails with exit code 2 at `needle`'s position, naming `path` and `range`.
fn refused(params: &str, needle: &str, path: &str, range: &str) {
    let p = Proj::new(&target(params));
    let e = p.fails(&["run", "pipelines/p.yaml", "--dry-run"]);
    let (line, col) = place(&p, needle);
    assert!(
        e.contains(&format!("p.yaml:{line}:{col}: stage `t`")),
        "{e}"
    );
    assert!(
        e.contains(&format!("`{path}`")) && e.contains(range),
        "{path}, {range}: {e}"
    );
    assert!(p.entries().is_empty(), "nothing ran");
}

#[test]
fn meta_every_zero_is_refused_at_dry_run() {
    refused(
        "method: {l2t-ww: {meta-every: 0}}",
        "meta-every",
        "method.l2t-ww.meta-every",
        "must be at least 1",
    );
}

#[test]
fn a_negative_meta_learning_rate_is_refused_at_dry_run() {
    refused(
        "method: {l2t-ww: {meta-lr: -0.1}}",
        "meta-lr",
        "method.l2t-ww.meta-lr",
        "must be a finite number > 0, got -0.1",
    );
}

#[test]
fn no_look_ahead_is_refused_at_dry_run_unless_frozen() {
    refused(
        "method: {l2t-ww: {T: 0}}",
        "T: 0",
        "method.l2t-ww.T",
        "meta-gradient is identically zero",
    );
    let p = Proj::new(&target("method: {l2t-ww: {T: 0, frozen: true}}"));
    p.ok(&["run", "pipelines/p.yaml", "--dry-run"]);
}

#[test]
fn zero_images_per_class_are_refused_at_dry_run() {
    refused(
        "per-class: 0",
        "per-class",
        "per-class",
        "must be at least 1",
    );
}

#[test]
fn a_negative_learning_rate_is_refused_at_dry_run() {
    refused(
        "optim: {epochs: 1, lr: -0.05}",
        "lr: -0.05",
        "optim.lr",
        "must be a finite number > 0, got -0.05",
    );
}

#[test]
fn standardisation_files_that_do_not_match_the_sources_are_refused_at_dry_run() {
    refused(
        "method: {l2t-ww: {standardize: [a.parquet, b.parquet]}}",
        "standardize",
        "method.l2t-ww.standardize",
        "names 2 statistics file(s) for 1 source(s)",
    );
}

#[test]
fn a_bad_number_inside_a_sweep_is_refused_at_its_item() {
    let p = Proj::new(&target(
        "method: [fm, {l2t-ww: {meta-every: 0}, label: bad}]",
    ));
    let e = p.fails(&["run", "pipelines/p.yaml", "--dry-run"]);
    let (line, col) = place(&p, "meta-every");
    assert!(e.contains(&format!("p.yaml:{line}:{col}:")), "{e}");
    assert!(e.contains("`method.l2t-ww.meta-every`"), "{e}");
}

#[test]
fn a_device_that_is_not_there_is_refused_at_dry_run() {
    let p = Proj::new("");
    let out = p.l2tww(&[
        "--device",
        "cuda:64",
        "run",
        "pipelines/p.yaml",
        "--dry-run",
    ]);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{o}{e}");
    assert!(e.contains("cuda:64") && e.contains("CUDA device(s)"), "{e}");
}

#[test]
fn a_dataset_that_is_not_installed_is_said_at_dry_run_and_stops_a_run_before_it_starts() {
    let p = Proj::new("  c: {kind: dataset, dataset: cifar10}\n");
    let (o, e) = p.ok(&["run", "pipelines/p.yaml", "--dry-run"]);
    let (line, col) = place(&p, "dataset: cifar10");
    assert!(
        e.contains(&format!(
            "p.yaml:{line}:{col}: stage `c`: `dataset`: cifar10 is not installed"
        )),
        "{e}"
    );
    assert!(
        o.contains(": valid;") && o.contains("1 input(s) not on this machine"),
        "{o}"
    );
    let e = p.fails(&["run", "pipelines/p.yaml"]);
    assert!(
        e.contains("cifar10 is not installed") && e.contains("`from:`"),
        "{e}"
    );
    assert!(p.entries().is_empty(), "nothing ran");
}
