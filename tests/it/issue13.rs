//! Regression tests of issue 13 (typed stage kinds, path-free keys, one scheduling core): a
//! moved project finds every entry fresh; nested defaults merge; gc without pipelines refuses;
//! a relative `standardize:` is resolved and keyed by content; `--precision f64` reaches
//! source-stats; two reports keep their files; the checks `--dry-run` promises (report labels,
//! nesterov with L2T, finetune across architectures, classes, per-class against present data);
//! `--only` one instance with did-you-mean; `status` remembers across a label-only edit; a lone
//! instance gets every thread. Training resumed under another `-j` is in `issue13_resume.rs`,
//! the Slurm executor's selection in `slurm.rs`.

use crate::data_gen::idx_dir;
use crate::util::text;
use std::path::PathBuf;
use std::process::{Command, Output};

/// A project folder `proj/` (inside a temporary folder, so it can be moved) with generated IDX
/// data and `pipelines/p.yaml`.
pub struct Proj {
    pub root: tempfile::TempDir,
    pub name: String,
}

pub const DATA: &str =
    "  data: {kind: dataset, dataset: fashion-mnist, from: ../idx, val-fraction: 0.2}\n";

impl Proj {
    pub fn new(stages: &str) -> Proj {
        let root = tempfile::tempdir().unwrap();
        let p = Proj {
            root,
            name: "proj".into(),
        };
        idx_dir(&p.dir().join("idx"), 200, 100, true);
        std::fs::create_dir_all(p.dir().join("pipelines")).unwrap();
        p.write(stages);
        p
    }
    pub fn dir(&self) -> PathBuf {
        self.root.path().join(&self.name)
    }
    pub fn write(&self, stages: &str) {
        let text = format!("stages:\n{DATA}{stages}");
        std::fs::write(self.dir().join("pipelines/p.yaml"), text).unwrap();
    }
    /// `l2tww ARGS` in the project folder (no default thread count).
    pub fn l2tww(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_l2tww"))
            .current_dir(self.dir())
            .env_remove("L2TWW_CACHE")
            .args(args)
            .output()
            .unwrap()
    }
    /// `l2tww ARGS`, which must succeed; its stdout and stderr.
    pub fn ok(&self, args: &[&str]) -> (String, String) {
        let out = self.l2tww(args);
        let (o, e) = text(&out);
        assert!(out.status.success(), "l2tww {args:?} failed:\n{o}\n{e}");
        (o, e)
    }
    /// `l2tww ARGS`, which must fail with exit code 2; its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.l2tww(args);
        let (o, e) = text(&out);
        assert_eq!(out.status.code(), Some(2), "l2tww {args:?}:\n{o}\n{e}");
        e
    }
    pub fn entries(&self) -> Vec<PathBuf> {
        let dir = self.dir().join("cache/v1/entries");
        let mut v: Vec<PathBuf> =
            std::fs::read_dir(dir).map_or(Vec::new(), |d| d.map(|e| e.unwrap().path()).collect());
        v.sort();
        v
    }
    /// The folder and the manifest of the entry of `instance`.
    pub fn entry(&self, instance: &str) -> (PathBuf, serde_json::Value) {
        self.entries()
            .into_iter()
            .map(|e| {
                let m = serde_json::from_slice(&std::fs::read(e.join("manifest.json")).unwrap());
                (e, m.unwrap())
            })
            .find(|(_, m): &(PathBuf, serde_json::Value)| m["meta"]["instance"] == instance)
            .unwrap_or_else(|| panic!("no entry of {instance}"))
    }
    /// The manifest of the entry of `instance`.
    pub fn manifest(&self, instance: &str) -> serde_json::Value {
        self.entry(instance).1
    }
}

/// The key `dag --instances` shows for `instance`.
pub fn key_of(p: &Proj, args: &[&str], instance: &str) -> String {
    let mut all = vec!["dag", "pipelines/p.yaml", "--instances"];
    all.extend_from_slice(args);
    let (o, _) = p.ok(&all);
    o.lines()
        .find(|l| l.trim_start().starts_with(&format!("{instance} [")))
        .and_then(|l| l.trim_start()[instance.len()..].split(['[', ']']).nth(1))
        .unwrap_or_else(|| panic!("{instance} not in:\n{o}"))
        .to_string()
}

const SUBSETS: &str = "  a: {kind: subset, data: data, classes: [0, 1, 2], per-class: 4}\n  \
                       b: {kind: subset, data: data, classes: [3, 4], per-class: 5}\n";

#[test]
fn issue13_a_lone_instance_gets_every_thread_and_those_that_start_together_share() {
    let p = Proj::new(SUBSETS);
    let (o, _) = p.ok(&["--threads", "2", "run", "pipelines/p.yaml", "-j", "2"]);
    assert!(o.contains("3 ran"), "{o}");
    // The dataset ran alone: both threads; the two subsets started together: one each.
    assert_eq!(p.manifest("data")["meta"]["threads"], 2);
    assert_eq!(p.manifest("a")["meta"]["threads"], 1);
    assert_eq!(p.manifest("b")["meta"]["threads"], 1);
    let log = std::fs::read_to_string(p.dir().join("cache/logs/p/data.log")).unwrap();
    assert!(log.lines().next().unwrap().contains("2 thread(s)"), "{log}");
}

#[test]
fn issue13_a_moved_project_finds_every_entry_fresh() {
    let mut p = Proj::new(SUBSETS);
    let (o, _) = p.ok(&["run", "pipelines/p.yaml"]);
    assert!(o.contains("3 ran"), "{o}");
    std::fs::rename(p.dir(), p.root.path().join("moved")).unwrap();
    p.name = "moved".into();
    let (o, _) = p.ok(&["run", "pipelines/p.yaml"]);
    assert!(
        o.contains("0 ran, 3 fresh"),
        "a moved project recomputes:\n{o}"
    );
    let (o, _) = p.ok(&["status", "pipelines/p.yaml"]);
    assert!(o.contains("3 fresh, 0 stale"), "{o}");
}

#[test]
fn issue13_nested_defaults_merge_key_by_key() {
    let stage = "  t: {kind: train, data: data, arch: resnet8, optim: OPTIM}\n";
    let p = Proj::new(&stage.replace("OPTIM", "{epochs: 2, weight-decay: 0.0005}"));
    let written = key_of(&p, &[], "t");
    let text = format!(
        "defaults:\n  train: {{optim: {{weight-decay: 0.0005}}}}\nstages:\n{DATA}{}",
        stage.replace("OPTIM", "{epochs: 2}")
    );
    std::fs::write(p.dir().join("pipelines/p.yaml"), text).unwrap();
    assert_eq!(
        key_of(&p, &[], "t"),
        written,
        "the default weight-decay is kept"
    );
}

#[test]
fn issue13_gc_with_a_folder_without_pipelines_refuses_unless_told() {
    let p = Proj::new(SUBSETS);
    p.ok(&["run", "pipelines/p.yaml"]);
    std::fs::create_dir(p.dir().join("empty")).unwrap();
    let e = p.fails(&["gc", "--pipelines", "empty"]);
    assert!(
        e.contains("no pipeline file") && e.contains("--keep-nothing"),
        "{e}"
    );
    assert_eq!(p.entries().len(), 3);
    let (o, _) = p.ok(&["gc", "--pipelines", "empty", "--dry-run"]);
    assert!(
        o.contains("3 entries") && o.contains("--keep-nothing"),
        "{o}"
    );
    assert_eq!(p.entries().len(), 3);
    let (o, _) = p.ok(&["gc", "--pipelines", "empty", "--keep-nothing"]);
    assert!(o.contains("3 entries") && o.contains("removed"), "{o}");
    assert!(p.entries().is_empty());
}

#[test]
fn issue13_a_relative_standardize_path_is_resolved_against_the_pipeline_and_keyed_by_content() {
    let stages = "  src: {kind: train, data: data, arch: resnet8}\n  \
                  t: {kind: train, data: data, sources: [src], arch: resnet8, \
                  method: {l2t-ww: {standardize: FILE}}}\n";
    let p = Proj::new(&stages.replace("FILE", "stats/channels.parquet"));
    let want = p.dir().join("pipelines/stats/channels.parquet");
    let (_, e) = p.ok(&["run", "pipelines/p.yaml", "--dry-run"]);
    assert!(
        e.contains(&format!("reads {}, which does not exist", want.display())),
        "{e}"
    );
    std::fs::create_dir_all(want.parent().unwrap()).unwrap();
    std::fs::write(&want, b"statistics one").unwrap();
    let one = key_of(&p, &[], "t");
    std::fs::write(&want, b"statistics two").unwrap();
    let two = key_of(&p, &[], "t");
    assert_ne!(one, two, "the file's content is in the key");
    // The same content elsewhere, named by another path: the same key.
    let other = p.dir().join("elsewhere.parquet");
    std::fs::write(&other, b"statistics one").unwrap();
    p.write(&stages.replace("FILE", "../elsewhere.parquet"));
    assert_eq!(key_of(&p, &[], "t"), one, "the path is not in the key");
}

fn first_line_col(e: &str) -> (usize, usize) {
    let at = e.split("p.yaml:").nth(1).unwrap_or_else(|| panic!("{e}"));
    let mut it = at.split(':');
    let n = |s: Option<&str>| {
        s.and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{e}"))
    };
    (n(it.next()), n(it.next()))
}

#[test]
fn issue13_dry_run_checks_what_would_fail_after_the_trainings() {
    let src = "  src: {kind: train, data: data, arch: resnet20, classes: [0, 1]}\n";
    let cases: [(String, (usize, usize), &str); 5] = [
        (
            format!("{src}  t: {{kind: train, data: data, sources: [src], arch: resnet8, method: [fm]}}\n  \
             r: {{kind: report, runs: t, rows: method, cols: seed}}\n"),
            (5, 50),
            "no run of `runs` carries the label `seed`",
        ),
        (
            format!("{src}  t: {{kind: train, data: data, sources: [src], arch: resnet8, method: l2t-ww,\n      \
             optim: {{epochs: 1, nesterov: true}}}}\n"),
            (5, 26),
            "heavy-ball momentum",
        ),
        (
            format!("{src}  t: {{kind: train, data: data, sources: [src], arch: resnet8, method: finetune}}\n"),
            (4, 63),
            "finetune needs the source's architecture",
        ),
        (
            "  s: {kind: subset, data: data, classes: [3, 10]}\n".into(),
            (3, 33),
            "class 10 is outside the data's 10 classes",
        ),
        (
            "  s: {kind: subset, data: data, per-class: 2}\n  \
             t: {kind: train, data: s, arch: resnet8, classes: [1, 12]}\n"
                .into(),
            (4, 44),
            "class 12 is outside",
        ),
    ];
    let p = Proj::new("");
    for (stages, place, msg) in cases {
        p.write(&stages);
        let e = p.fails(&["run", "pipelines/p.yaml", "--dry-run"]);
        assert!(e.contains(msg), "expected {msg}:\n{e}");
        assert_eq!(first_line_col(&e), place, "{e}");
    }
    // Images per class beyond what the data has, once the data is in the cache.
    p.write("  s: {kind: subset, data: data, per-class: 17}\n");
    p.ok(&["run", "pipelines/p.yaml", "--dry-run"]);
    p.ok(&["run", "pipelines/p.yaml", "--only", "data"]);
    let e = p.fails(&["run", "pipelines/p.yaml", "--dry-run"]);
    assert!(
        e.contains("has 16 images, fewer than the 17 per class") && e.contains("train split"),
        "{e}"
    );
    assert_eq!(first_line_col(&e), (3, 33), "{e}");
}

#[test]
fn issue13_only_names_one_instance_and_suggests_the_nearest_name() {
    let p = Proj::new("  s: {kind: subset, data: data, per-class: [4, 6]}\n");
    let (o, _) = p.ok(&[
        "run",
        "pipelines/p.yaml",
        "--dry-run",
        "--only",
        "s[per-class=4]",
    ]);
    assert!(
        o.contains("would run  s[per-class=4]") && o.contains("would run  data"),
        "{o}"
    );
    assert!(!o.contains("s[per-class=6]"), "{o}");
    let e = p.fails(&["run", "pipelines/p.yaml", "--only", "s[per-clas=4]"]);
    assert!(
        e.contains("no stage or instance `s[per-clas=4]`")
            && e.contains("did you mean `s[per-class=4]`?"),
        "{e}"
    );
    let e = p.fails(&["run", "pipelines/p.yaml", "--force", "dta"]);
    assert!(
        e.contains("--force") && e.contains("did you mean `data`?"),
        "{e}"
    );
}

/// The source trains in float64 and source-stats computes in it; two reports over the same
/// runs keep their own files.
#[test]
fn issue13_precision_f64_reaches_source_stats_and_two_reports_keep_their_files() {
    let stages = "  s: {kind: subset, data: data, classes: [0, 1, 2, 3], per-class: 4}\n  \
                  src: {kind: train, data: s, arch: resnet8, batch: 8, augment: none, seed: [0], optim: {epochs: 1}}\n  \
                  st: {kind: source-stats, source: src, data: s, per-class: 4}\n  \
                  one: {kind: report, runs: src, rows: seed}\n  \
                  two: {kind: report, runs: src, rows: seed, value: best_epoch}\n";
    let p = Proj::new(stages);
    let f32_key = key_of(&p, &[], "st[seed=0]");
    assert_ne!(key_of(&p, &["--precision", "f64"], "st[seed=0]"), f32_key);
    assert_eq!(
        key_of(&p, &["--precision", "f64"], "s"),
        key_of(&p, &[], "s"),
        "a subset computes with no network: one key in both precisions"
    );
    p.ok(&["--precision", "f64", "run", "pipelines/p.yaml"]);
    let (dir, _) = p.entry("st[seed=0]");
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/stats.json")).unwrap()).unwrap();
    assert_eq!(stats["precision"], "f64", "{stats}");
    assert_eq!(
        p.manifest("src[seed=0]")["meta"]["metrics"]["precision"],
        "f64"
    );
    for r in ["one", "two"] {
        let d = p.dir().join("results/p").join(r);
        assert!(
            d.join(format!("{r}.md")).exists() && d.join("runs.csv").exists(),
            "{r}"
        );
    }
    let one = std::fs::read_to_string(p.dir().join("results/p/one/one.md")).unwrap();
    let two = std::fs::read_to_string(p.dir().join("results/p/two/two.md")).unwrap();
    assert_ne!(one, two);
}

#[test]
fn issue13_status_remembers_why_across_a_label_only_edit() {
    let stage = "  t: {kind: train, data: data, arch: resnet8, classes: [0, 1], per-class: 4, \
                 batch: 8, augment: none, optim: [{epochs: EPOCHS, label: LABEL}]}\n";
    let p = Proj::new(&stage.replace("EPOCHS", "1").replace("LABEL", "short"));
    p.ok(&["run", "pipelines/p.yaml"]);
    p.write(&stage.replace("EPOCHS", "1").replace("LABEL", "brief"));
    let (o, _) = p.ok(&["status", "pipelines/p.yaml"]);
    assert!(
        o.contains("fresh  t[optim=brief]"),
        "a label is not in the key:\n{o}"
    );
    p.write(&stage.replace("EPOCHS", "2").replace("LABEL", "brief"));
    let (o, _) = p.ok(&["status", "pipelines/p.yaml"]);
    assert!(
        o.contains("stale  t[optim=brief]\n         param optim.epochs 1 → 2"),
        "{o}"
    );
}
