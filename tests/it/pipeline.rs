//! `l2tww run|status|dag|show|gc` end to end on tiny real pipelines: IDX files in Fashion-MNIST's
//! format prepared into Parquet, subsets, a source and targets trained for a few steps, a report.
//! Incremental behaviour (nothing reruns when nothing changed; a new seed runs only its runs and
//! the report; a changed epoch count reruns training and report only; comments change nothing),
//! crash safety (SIGKILL mid-run, two runs on one cache, damaged entries) and the validation
//! errors with file:line:column.

use crate::data_gen::idx_dir;
use crate::util::text;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A project folder with `pipelines/p.yaml` and generated IDX data.
pub struct Project {
    pub dir: tempfile::TempDir,
}

const TEMPLATE: &str = r#"# a tiny study
defaults:
  train: {batch: 16, augment: none, optim: {epochs: EPOCHS, lr: 0.05}}
stages:
  data: {kind: dataset, dataset: fashion-mnist, from: ../idx, val-fraction: 0.2}
  src-data: {kind: subset, data: data, classes: [0, 1, 2, 3, 4], per-class: 8}
  tgt-data: {kind: subset, data: data, classes: [5, 6, 7, 8, 9], per-class: PER}
  source: {kind: train, data: src-data, arch: resnet8, optim: {epochs: 1, lr: 0.05}}
  target: {kind: train, data: tgt-data, sources: [source], arch: resnet8, method: [scratch, fm], seed: SEEDS}
  table: {kind: report, runs: target, rows: method, cols: seed}
"#;

pub fn yaml(epochs: usize, seeds: &str, per: usize) -> String {
    TEMPLATE
        .replace("EPOCHS", &epochs.to_string())
        .replace("SEEDS", seeds)
        .replace("PER", &per.to_string())
}

impl Project {
    pub fn new(text: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        idx_dir(&dir.path().join("idx"), 200, 100, true);
        std::fs::create_dir(dir.path().join("pipelines")).unwrap();
        let p = Project { dir };
        p.write(text);
        p
    }
    pub fn write(&self, text: &str) {
        std::fs::write(self.pipeline(), text).unwrap();
    }
    pub fn pipeline(&self) -> PathBuf {
        self.dir.path().join("pipelines/p.yaml")
    }
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_l2tww"));
        c.current_dir(self.dir.path())
            .env_remove("L2TWW_CACHE")
            .args(["--threads", "1"])
            .args(args);
        c
    }
    pub fn l2tww(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
    pub fn run(&self) -> (String, String) {
        let out = self.l2tww(&["run", "pipelines/p.yaml"]);
        let (o, e) = text(&out);
        let yaml = std::fs::read_to_string(self.pipeline()).unwrap();
        assert!(
            out.status.success(),
            "run failed:\n{o}\n{e}\n--- p.yaml:\n{yaml}"
        );
        (o, e)
    }
    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }
}

/// The instances a run started (its `run  NAME` lines), sorted.
pub fn started(stderr: &str) -> Vec<String> {
    let mut v: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("run   "))
        .map(|l| l.split(" (log:").next().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn entries(cache: &Path) -> Vec<PathBuf> {
    let dir = cache.join("v1/entries");
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).map_or(Vec::new(), |d| d.map(|e| e.unwrap().path()).collect());
    v.sort();
    v
}

#[test]
fn pipeline_reruns_exactly_what_changed() {
    let p = Project::new(&yaml(1, "[0]", 6));
    let (out, err) = p.run();
    assert_eq!(started(&err).len(), 7, "{err}");
    assert!(
        out.contains("| scratch") && out.contains("| fm"),
        "the table is printed:\n{out}"
    );
    assert!(p.dir.path().join("results/p/table.md").exists());

    // Nothing changed: nothing runs. (How fast the no-op answers is a speed goal, measured by
    // hand rather than by a timed test, which a loaded machine makes flaky.)
    let (out, err) = p.run();
    assert!(started(&err).is_empty(), "{err}");
    assert!(out.contains("0 ran, 7 fresh"), "{out}");

    // A comment and formatting: nothing runs.
    p.write(&format!(
        "# another comment\n{}",
        yaml(1, "[0]", 6).replace("per-class: 8", "per-class:   8 ")
    ));
    assert!(started(&p.run().1).is_empty());

    // A new seed: only its runs and the report.
    p.write(&yaml(1, "[0, 1]", 6));
    let status = text(&p.l2tww(&["status", "pipelines/p.yaml"])).0;
    assert!(
        status.contains("stale  target[method=scratch,seed=1]\n         never run"),
        "{status}"
    );
    assert!(
        status.contains("fresh  target[method=scratch,seed=0]"),
        "{status}"
    );
    assert_eq!(
        started(&p.run().1),
        [
            "table",
            "target[method=fm,seed=1]",
            "target[method=scratch,seed=1]"
        ]
    );

    // More epochs for the targets: targets and report rerun; data and source do not.
    p.write(&yaml(2, "[0, 1]", 6));
    let status = text(&p.l2tww(&["status", "pipelines/p.yaml"])).0;
    assert!(
        status.contains("optim"),
        "status names the changed parameter:\n{status}"
    );
    assert!(
        status.contains("fresh  source") && status.contains("fresh  data"),
        "{status}"
    );
    let ran = started(&p.run().1);
    assert_eq!(ran.len(), 5, "{ran:?}");
    assert!(
        ran.iter().all(|r| r.starts_with("target[") || r == "table"),
        "{ran:?}"
    );

    // A damaged entry is noticed and recomputed.
    let entry = entries(&p.cache())
        .into_iter()
        .find(|e| e.join("out/train.parquet").exists() && !e.join("out/dataset.json").exists())
        .expect("a subset entry");
    std::fs::write(entry.join("out/train.parquet"), b"garbage").unwrap();
    let status = text(&p.l2tww(&["status", "pipelines/p.yaml"])).0;
    assert!(status.contains("damaged"), "{status}");
    let ran = started(&p.run().1);
    assert!(ran.iter().any(|r| r.ends_with("-data")), "{ran:?}");
    assert!(std::fs::read(entry.join("out/train.parquet"))
        .unwrap()
        .starts_with(b"PAR1"));

    // show and dag.
    let show = text(&p.l2tww(&["show", "pipelines/p.yaml", "source"])).0;
    assert!(show.contains("target.safetensors"), "{show}");
    let dag = text(&p.l2tww(&["dag", "pipelines/p.yaml"])).0;
    assert!(
        dag.contains("target (train, 4 instances) ← data: tgt-data; sources: [\"source\"]"),
        "{dag}"
    );
}

#[test]
fn pipeline_gc_removes_only_what_no_pipeline_reaches() {
    let p = Project::new(&yaml(1, "[0]", 6).replace("method: [scratch, fm]", "method: [scratch]"));
    p.run();
    let before = entries(&p.cache()).len();
    p.write(&yaml(1, "[0]", 5).replace("method: [scratch, fm]", "method: [scratch]"));
    p.run();
    let out = p.l2tww(&["gc", "--dry-run"]);
    let (o, _) = text(&out);
    assert!(o.contains("would remove") && o.contains("3 entries"), "{o}");
    assert_eq!(entries(&p.cache()).len(), before + 3);
    let (o, _) = text(&p.l2tww(&["gc"]));
    assert!(o.contains("3 entries") && o.contains("removed"), "{o}");
    assert_eq!(entries(&p.cache()).len(), before);
    assert!(
        started(&p.run().1).is_empty(),
        "gc kept what the pipeline reaches"
    );
}

#[test]
fn pipeline_killed_mid_training_leaves_no_partial_entry_and_resumes_from_its_checkpoint() {
    let slow = yaml(8, "[0]", 12).replace("method: [scratch, fm]", "method: [fm]");
    let p = Project::new(&slow);
    let mut child = p
        .cmd(&["run", "pipelines/p.yaml"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    kill_after_a_target_checkpoint(&p, &mut child);
    // Every entry present is whole.
    for e in entries(&p.cache()) {
        assert!(e.join("manifest.json").exists(), "{e:?} has no manifest");
    }
    let (_, err) = p.run();
    assert!(
        started(&err).contains(&"target[method=fm,seed=0]".to_string()),
        "{err}"
    );
    let log =
        std::fs::read_to_string(p.cache().join("logs/p/target_method=fm,seed=0_.log")).unwrap();
    // The resumed run does not print the epochs finished before the kill.
    assert!(
        !log.contains("epoch   1/8"),
        "the run started over instead of resuming:\n{log}"
    );

    // The numbers equal those of an uninterrupted run in a fresh cache.
    let q = Project::new(&slow);
    q.run();
    let summary = |c: &Path| -> serde_json::Value {
        let e = entries(c)
            .into_iter()
            .find(|e| {
                e.join("out/summary.json").exists()
                    && std::fs::read_to_string(e.join("manifest.json"))
                        .unwrap()
                        .contains("target[")
            })
            .unwrap();
        let mut s: serde_json::Value =
            serde_json::from_slice(&std::fs::read(e.join("out/summary.json")).unwrap()).unwrap();
        for ep in s["epochs"].as_array_mut().unwrap() {
            ep["seconds"] = 0.into();
        }
        s
    };
    assert_eq!(summary(&p.cache()), summary(&q.cache()));
}

/// Waits until the target `target[method=fm,seed=0]` has written a checkpoint (an epoch done,
/// its run not finished), then kills the run with SIGKILL.
pub fn kill_after_a_target_checkpoint(p: &Project, child: &mut std::process::Child) {
    let t0 = Instant::now();
    let work = p.cache().join("v1/work");
    let log = p.cache().join("logs/p/target_method=fm,seed=0_.log");
    loop {
        let checkpointed = std::fs::read_dir(&work)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                e.path().join("checkpoint.safetensors").exists()
                    && !e.path().join("summary.json").exists()
            });
        let epoch_done = std::fs::read_to_string(&log).is_ok_and(|l| l.contains("epoch"));
        if checkpointed && epoch_done {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "no checkpoint appeared"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe_kill(child.id());
    child.wait().unwrap();
}

fn unsafe_kill(pid: u32) {
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
}

#[test]
fn pipeline_two_runs_on_one_cache_take_turns() {
    let p = Project::new(&yaml(1, "[0]", 6).replace("method: [scratch, fm]", "method: [scratch]"));
    let first = p
        .cmd(&["run", "pipelines/p.yaml"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The second starts once the first holds the lock.
    let t0 = Instant::now();
    while !p.cache().join("v1/lock.info").exists() && !p.cache().join("lock.info").exists() {
        assert!(t0.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = p.l2tww(&["run", "pipelines/p.yaml"]);
    let first = first.wait_with_output().unwrap();
    let (o1, e1) = text(&first);
    let (o2, e2) = text(&second);
    assert!(
        first.status.success() && second.status.success(),
        "{o1}{e1}{o2}{e2}"
    );
    assert!(
        e2.contains("waiting for the cache lock held by pid"),
        "{e2}"
    );
    assert!(
        o2.contains("0 ran"),
        "the second run found everything done:\n{o2}"
    );
}

#[test]
fn pipeline_errors_point_at_file_line_and_column() {
    let p = Project::new(&yaml(1, "[0]", 6));
    let cases = [
        (
            "per-class: 8}",
            "per-clas: 8}",
            "p.yaml:6:",
            "no parameter `per-clas`; did you mean `per-class`?",
        ),
        (
            "sources: [source]",
            "sources: [sorce]",
            "p.yaml:9:",
            "unknown stage `sorce`; did you mean `source`?",
        ),
        (
            "epochs: 1, lr",
            "epochs: one, lr",
            "p.yaml:",
            "`optim.epochs`",
        ),
        (
            "data: data, classes: [5",
            "data: source, classes: [5",
            "p.yaml:7:",
            "must name a `dataset` or `subset` stage",
        ),
    ];
    for (from, to, place, msg) in cases {
        p.write(&yaml(1, "[0]", 6).replacen(from, to, 1));
        let out = p.l2tww(&["run", "pipelines/p.yaml", "--dry-run"]);
        let (o, e) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{o}{e}");
        assert!(
            e.contains(place) && e.contains(msg),
            "expected {place} … {msg}, got:\n{e}"
        );
    }
    let cyclic = "stages:\n  a: {kind: subset, data: b}\n  b: {kind: subset, data: a}\n";
    p.write(cyclic);
    let (_, e) = text(&p.l2tww(&["run", "pipelines/p.yaml", "--dry-run"]));
    assert!(
        e.contains("p.yaml:3:") && e.contains("cycle: a → b → a"),
        "{e}"
    );
    assert!(!p.cache().join("v1/entries").exists() || entries(&p.cache()).is_empty());
}

#[test]
fn every_pipeline_of_the_repository_validates_without_its_data() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cache = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for dir in ["pipelines", "pipelines/paper"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 7, "{files:?}");
    for f in files {
        let out = Command::new(env!("CARGO_BIN_EXE_l2tww"))
            .args(["run", "--dry-run", "--cache"])
            .arg(cache.path())
            .arg(&f)
            .output()
            .unwrap();
        let (o, e) = text(&out);
        assert!(
            out.status.success() && o.contains(": valid;"),
            "{}:\n{o}{e}",
            f.display()
        );
    }
}
