//! `include:` end to end: a pipeline that takes its data stages, source and defaults from
//! another file plans to the same cache keys as the same stages written inline; errors inside
//! the included file point at that file's line and column; a stage defined in both files, a
//! cycle of includes and a missing file are errors naming the files.

use crate::cli_conventions::keys;
use crate::pipeline::{yaml, Project};
use crate::util::text;

/// The tiny study split in two: `common.yaml` (defaults, data, source) and `p.yaml` (the
/// targets and the report), with `p.yaml` including the other.
fn split() -> (String, String) {
    let whole = yaml(1, "[0]", 6);
    let lines: Vec<&str> = whole.lines().collect();
    let own = ["  target:", "  table:"];
    let common: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !own.iter().any(|o| l.starts_with(o)))
        .collect();
    let mut top = vec!["include: [common.yaml]", "stages:"];
    top.extend(
        lines
            .iter()
            .filter(|l| own.iter().any(|o| l.starts_with(o))),
    );
    (common.join("\n") + "\n", top.join("\n") + "\n")
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

/// The 1-based line and column of `needle` in `text`.
fn place(text: &str, needle: &str) -> (usize, usize) {
    text.lines()
        .enumerate()
        .find_map(|(i, l)| l.find(needle).map(|c| (i + 1, c + 1)))
        .unwrap_or_else(|| panic!("no {needle} in {text}"))
}

#[test]
fn included_stages_keep_the_keys_they_have_inline() {
    let p = Project::new(&yaml(1, "[0]", 6));
    let inline = sorted(keys(&p, &["pipelines/p.yaml"]));
    let (common, top) = split();
    std::fs::write(p.dir.path().join("pipelines/common.yaml"), &common).unwrap();
    p.write(&top);
    let included = sorted(keys(&p, &["pipelines/p.yaml"]));
    assert_eq!(included.len(), 7, "{included:?}");
    assert_eq!(included, inline);
    // The included file alone plans its stages to the same keys too.
    let alone = keys(&p, &["pipelines/common.yaml"]);
    for (name, key) in &alone {
        assert!(included.contains(&(name.clone(), key.clone())), "{name}");
    }
    // An override reaches a stage of the included file, as editing that file would.
    let set = sorted(keys(
        &p,
        &["pipelines/p.yaml", "--set", "source.optim.lr=0.2"],
    ));
    std::fs::write(
        p.dir.path().join("pipelines/common.yaml"),
        common.replacen(
            "arch: resnet8, optim: {epochs: 1, lr: 0.05}}",
            "arch: resnet8, optim: {epochs: 1, lr: 0.2}}",
            1,
        ),
    )
    .unwrap();
    assert_ne!(set, included);
    assert_eq!(set, sorted(keys(&p, &["pipelines/p.yaml"])));
}

#[test]
fn errors_inside_an_included_file_point_at_that_file() {
    let p = Project::new("stages: {}\n");
    let (common, top) = split();
    p.write(&top);
    let common_path = p.dir.path().join("pipelines/common.yaml");
    let cases = [
        // Found when the file is read: a misspelt parameter.
        (
            "per-clas: 8}",
            "a `subset` stage has no parameter `per-clas`",
        ),
        // Found when the plan is typed: a bad value.
        ("per-class: eight}", "stage `src-data`: `per-class`"),
    ];
    for (to, msg) in cases {
        let bad = common.replacen("per-class: 8}", to, 1);
        std::fs::write(&common_path, &bad).unwrap();
        let out = p.l2tww(&["run", "pipelines/p.yaml", "--dry-run"]);
        let (o, e) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{o}{e}");
        let (line, col) = place(&bad, to.trim_end_matches('}'));
        let at = format!("pipelines/common.yaml:{line}:{col}: ");
        assert!(
            e.contains(&at) && e.contains(msg),
            "expected {at}{msg}, got:\n{e}"
        );
    }
    // A YAML syntax error in the included file.
    std::fs::write(
        &common_path,
        common.replacen("per-class: 8}", "per-class: [8}", 1),
    )
    .unwrap();
    let out = p.l2tww(&["run", "pipelines/p.yaml", "--dry-run"]);
    let (_, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains("error: pipelines/common.yaml:"), "{e}");
    std::fs::write(&common_path, &common).unwrap();
    // A mistake in the including file still points at it.
    p.write(&top.replace("sources: [source]", "sources: [sorce]"));
    let (_, e) = text(&p.l2tww(&["run", "pipelines/p.yaml", "--dry-run"]));
    let (line, _) = place(&top, "sources");
    assert!(
        e.contains(&format!("pipelines/p.yaml:{line}:")) && e.contains("did you mean `source`?"),
        "{e}"
    );
}

#[test]
fn a_stage_in_both_files_a_cycle_and_a_missing_file_are_errors_naming_the_files() {
    let p = Project::new("stages: {}\n");
    let (common, top) = split();
    let common_path = p.dir.path().join("pipelines/common.yaml");
    std::fs::write(&common_path, &common).unwrap();
    let twice = format!("{top}  source: {{kind: subset, data: data}}\n");
    p.write(&twice);
    let (_, e) = text(&p.l2tww(&["run", "pipelines/p.yaml", "--dry-run"]));
    let (line, col) = place(&twice, "source:");
    let (cline, ccol) = place(&common, "source:");
    let expected = format!(
        "pipelines/p.yaml:{line}:{col}: stage `source` is defined twice: here and at \
         pipelines/common.yaml:{cline}:{ccol}"
    );
    assert!(e.contains(&expected), "expected {expected}, got:\n{e}");

    p.write(&top);
    std::fs::write(&common_path, format!("include: p.yaml\n{common}")).unwrap();
    let out = p.l2tww(&["run", "pipelines/p.yaml", "--dry-run"]);
    let (_, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("pipelines/common.yaml:1:10: the files include each other: p.yaml → common.yaml → p.yaml"),
        "{e}"
    );

    p.write(&top.replace("common.yaml", "nowhere.yaml"));
    let out = p.l2tww(&["run", "pipelines/p.yaml", "--dry-run"]);
    let (_, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("pipelines/p.yaml:1:11: cannot read the included pipelines/nowhere.yaml"),
        "{e}"
    );
}
