//! The conventions of the command line: `--version` (crate, commit, libtorch), shell
//! completions, help (examples in every subcommand's, `run` and `runs` listed first, global
//! options under their own heading), `make help` naming every target, `-q` / `-v`, and
//! `status --check`'s exit code.

use crate::pipeline::{yaml, Project};
use crate::util::{l2tww, text};
use std::path::Path;
use std::process::Command;

#[test]
fn version_names_the_crate_the_commit_and_libtorch() {
    let out = l2tww(&["--version"]);
    let (o, e) = text(&out);
    assert!(out.status.success(), "{o}{e}");
    let rest = o
        .trim()
        .strip_prefix(&format!("l2tww {} (commit ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{o}"));
    let (commit, libtorch) = rest
        .strip_suffix(')')
        .and_then(|r| r.split_once(", libtorch "))
        .unwrap_or_else(|| panic!("{o}"));
    // Built from this checkout: the commit is HEAD's (when git can say).
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(h) => assert!(
            commit == h || commit == format!("{h}-dirty"),
            "{commit} vs HEAD {h}"
        ),
        None => assert_eq!(commit, "unknown"),
    }
    // The build goes through the venv's torch, whose version build.rs reads.
    let numbers: Vec<&str> = libtorch.split(['.', '+']).collect();
    assert!(
        numbers.len() >= 3 && numbers[..3].iter().all(|n| n.parse::<u32>().is_ok()),
        "libtorch version `{libtorch}`"
    );
}

#[test]
fn completions_for_bash_zsh_and_fish_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = l2tww(&["completions", shell]);
        let (o, e) = text(&out);
        assert!(out.status.success(), "{shell}: {e}");
        assert!(
            o.len() > 500 && o.contains("l2tww") && o.contains("status") && o.contains("--set"),
            "{shell}:\n{o}"
        );
    }
    let out = l2tww(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The subcommands listed under `Commands:` in `l2tww --help`, in order.
fn listed_commands() -> Vec<String> {
    let (o, _) = text(&l2tww(&["--help"]));
    o.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn help_lists_run_first_and_every_subcommand_shows_examples() {
    let commands = listed_commands();
    assert_eq!(commands[..2], ["run", "runs"], "{commands:?}");
    assert!(
        commands.contains(&"completions".to_string()),
        "{commands:?}"
    );
    for c in commands.iter().filter(|c| *c != "help") {
        let (o, e) = text(&l2tww(&[c, "--help"]));
        let examples = o
            .split_once("Examples:")
            .unwrap_or_else(|| panic!("`l2tww {c} --help` has no examples:\n{o}{e}"))
            .1;
        assert!(
            examples.contains(&format!("l2tww {c}")) || examples.contains(&format!(" {c} ")),
            "`l2tww {c} --help` examples do not use `{c}`:\n{examples}"
        );
        // The global options come once, under their own heading, after the command's own.
        let global = o.find("Global options:").expect("a Global options heading");
        assert!(o[global..].contains("--quiet") && o[global..].contains("--verbose"));
        assert_eq!(o.matches("--device <DEVICE>").count(), 1, "{o}");
    }
}

#[test]
fn make_help_lists_every_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let makefile = std::fs::read_to_string(root.join("Makefile")).unwrap();
    let targets: Vec<&str> = makefile
        .lines()
        .find_map(|l| l.strip_prefix(".PHONY:"))
        .expect("a .PHONY line")
        .split_whitespace()
        .collect();
    assert!(targets.len() >= 10, "{targets:?}");
    let out = Command::new("make")
        .args(["-s", "--no-print-directory", "help"])
        .current_dir(root)
        .output()
        .expect("make runs");
    let (o, e) = text(&out);
    assert!(out.status.success(), "{e}");
    for t in targets {
        assert!(
            o.lines()
                .any(|l| l.trim_start().starts_with(&format!("make {t} "))),
            "`make help` does not list `{t}`:\n{o}"
        );
    }
}

/// A pipeline without training: the data stages of the tiny study.
const DATA_ONLY: &str = "stages:
  data: {kind: dataset, dataset: fashion-mnist, from: ../idx, val-fraction: 0.2}
  src-data: {kind: subset, data: data, classes: [0, 1, 2, 3, 4], per-class: 8}
";

#[test]
fn status_check_exits_1_while_anything_is_stale_and_0_when_all_is_fresh() {
    let p = Project::new(DATA_ONLY);
    let check = |extra: &[&str]| {
        let mut args = vec!["status", "pipelines/p.yaml", "--check"];
        args.extend_from_slice(extra);
        let out = p.l2tww(&args);
        let (o, e) = text(&out);
        (out.status.code(), o, e)
    };
    let (code, o, e) = check(&[]);
    assert_eq!(code, Some(1), "{o}{e}");
    assert!(o.contains("0 fresh, 2 stale"), "{o}");
    // Without --check, status reports and succeeds.
    assert_eq!(
        p.l2tww(&["status", "pipelines/p.yaml"]).status.code(),
        Some(0)
    );
    p.run();
    let (code, o, e) = check(&[]);
    assert_eq!(code, Some(0), "{o}{e}");
    assert!(o.contains("2 fresh, 0 stale"), "{o}");
    // An override that changes a stage makes it stale for that invocation.
    let (code, o, _) = check(&["--set", "src-data.per-class=9"]);
    assert_eq!(code, Some(1), "{o}");
    assert!(
        o.contains("stale  src-data") && o.contains("fresh  data"),
        "{o}"
    );
    // A bad pipeline is still exit 2, not "stale".
    let (code, _, e) = check(&["--set", "nope.per-class=9"]);
    assert_eq!(code, Some(2), "{e}");
}

#[test]
fn quiet_prints_only_results_and_verbose_adds_keys() {
    let p = Project::new(DATA_ONLY);
    let out = p.l2tww(&["-q", "run", "pipelines/p.yaml"]);
    let (o, e) = text(&out);
    assert!(out.status.success(), "{o}{e}");
    assert!(!e.contains("run   ") && !e.contains("done  "), "{e}");
    assert!(o.contains("2 ran, 0 fresh, 0 failed"), "{o}");
    let (o, _) = text(&p.l2tww(&["status", "pipelines/p.yaml", "-q"]));
    assert_eq!(o.trim(), "p: 2 fresh, 0 stale");
    let (o, _) = text(&p.l2tww(&["-v", "status", "pipelines/p.yaml"]));
    let keys = o
        .lines()
        .filter(|l| l.trim_start().starts_with("key "))
        .count();
    assert_eq!(keys, 2, "{o}");
    let (o, e) = text(&p.l2tww(&["run", "pipelines/p.yaml", "--dry-run", "--verbose"]));
    assert!(
        o.contains("fresh      data") && o.contains("key "),
        "{o}{e}"
    );
    let out = p.l2tww(&["-q", "-v", "status", "pipelines/p.yaml"]);
    assert_eq!(out.status.code(), Some(2), "-q and -v conflict");
    // The default run prints what it does.
    let (_, e) = text(&p.l2tww(&["run", "pipelines/p.yaml", "--force", "src-data"]));
    assert!(
        e.contains("run   src-data") && e.contains("done  src-data"),
        "{e}"
    );
}

#[test]
fn force_replaces_the_cached_entry_with_the_new_computation() {
    let p = Project::new(DATA_ONLY);
    p.run();
    let ks = keys(&p, &["pipelines/p.yaml"]);
    let manifest = p
        .dir
        .path()
        .join("cache/v1/entries")
        .join(key_of(&ks, "src-data"))
        .join("manifest.json");
    let started = |path: &std::path::Path| -> f64 {
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        m["meta"]["started"].as_f64().unwrap()
    };
    let before = started(&manifest);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = p.l2tww(&["run", "pipelines/p.yaml", "--force", "src-data"]);
    assert!(out.status.success(), "{:?}", text(&out));
    // The same key, and the entry under it is the forced run's, not the one it replaced.
    assert_eq!(
        key_of(&keys(&p, &["pipelines/p.yaml"]), "src-data"),
        key_of(&ks, "src-data")
    );
    assert!(
        started(&manifest) > before,
        "the forced run's entry was discarded"
    );
}

/// Each instance's cache key, as `-v status` prints them.
pub fn keys(p: &Project, args: &[&str]) -> Vec<(String, String)> {
    let mut all = vec!["-v", "status"];
    all.extend_from_slice(args);
    let out = p.l2tww(&all);
    let (o, e) = text(&out);
    assert!(out.status.success(), "{o}{e}");
    let mut keys = Vec::new();
    let mut name = None;
    for line in o.lines() {
        if let Some(n) = line
            .strip_prefix("fresh  ")
            .or(line.strip_prefix("stale  "))
        {
            name = Some(n.to_string());
        } else if let (Some(k), Some(n)) = (line.trim_start().strip_prefix("key "), &name) {
            keys.push((n.clone(), k.to_string()));
        }
    }
    assert!(!keys.is_empty(), "{o}");
    keys
}

fn key_of<'a>(keys: &'a [(String, String)], name: &str) -> &'a str {
    &keys
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in {keys:?}"))
        .1
}

#[test]
fn set_gives_the_keys_an_edit_of_the_file_gives() {
    let p = Project::new(&yaml(1, "[0]", 6));
    let base = keys(&p, &["pipelines/p.yaml"]);
    let set = keys(
        &p,
        &[
            "pipelines/p.yaml",
            "--set",
            "target.optim.lr=0.1",
            "--set",
            "tgt-data.per-class=7",
        ],
    );
    let edited = yaml(1, "[0]", 7).replace("seed: [0]}", "seed: [0], optim: {lr: 0.1}}");
    assert_ne!(edited, yaml(1, "[0]", 7), "the edit applies");
    std::fs::write(p.dir.path().join("pipelines/edited.yaml"), edited).unwrap();
    let by_edit = keys(&p, &["pipelines/edited.yaml"]);
    assert_eq!(set, by_edit);
    for changed in ["target[method=fm,seed=0]", "tgt-data", "table"] {
        assert_ne!(key_of(&set, changed), key_of(&base, changed), "{changed}");
    }
    assert_eq!(key_of(&set, "source"), key_of(&base, "source"));
    // `dag` and `show` take --set too.
    let out = p.l2tww(&[
        "dag",
        "pipelines/p.yaml",
        "--set",
        "target.seed=[0,1]",
        "--instances",
    ]);
    assert!(
        text(&out).0.contains("target[method=fm,seed=1]"),
        "{}",
        text(&out).0
    );
    let out = p.l2tww(&[
        "show",
        "pipelines/p.yaml",
        "target",
        "--set",
        "target.seed=[3]",
    ]);
    assert!(text(&out).0.contains("seed=3"), "{}", text(&out).0);
}

#[test]
fn set_with_an_unknown_stage_or_parameter_exits_2_saying_so() {
    let p = Project::new(&yaml(1, "[0]", 6));
    let cases: [(&[&str], &str); 5] = [
        (&["--set", "traget.seed=1"], "no stage `traget`"),
        (
            &["--set", "target.sed=1"],
            "has no parameter `sed`; did you mean `seed`?",
        ),
        (&["--set", "target.seed"], "no `=`"),
        (
            &["--set", "source.optim.epochs.x=1"],
            "`source.optim.epochs` is `1`",
        ),
        // A bad value is found where the file's would be, at the override's place.
        (
            &["--set", "target.optim.epochs=many"],
            "--set:1:21: stage `target`: `optim.epochs`",
        ),
    ];
    for (args, msg) in cases {
        let mut all = vec!["run", "pipelines/p.yaml", "--dry-run"];
        all.extend_from_slice(args);
        let out = p.l2tww(&all);
        let (o, e) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {o}{e}");
        assert!(e.contains(msg), "{args:?}: expected {msg}, got:\n{e}");
    }
}
