//! Replicates that are replicates: one `seed` label, swept on the subset stage and on the
//! training stage, joins — replicate k draws subset k and trains with seed k (two trainings, not
//! four) — while every replicate is tested on the same images (no `test-per-class`: the whole
//! test split of the classes), and the frozen L2T-ww control trains beside the learning row with
//! its meta-networks left where they started.

use crate::issue13::Proj;
use l2tww::data::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const STAGES: &str = r#"  src-data: {kind: subset, data: data, classes: [0, 1, 2, 3, 4], per-class: 8}
  tgt-data: {kind: subset, data: data, classes: [5, 6, 7, 8, 9], per-class: 6, val-per-class: 2, seed: [0, 1]}
  source: {kind: train, data: src-data, arch: resnet8, batch: 16, augment: none, optim: {epochs: 1, lr: 0.05}}
  target:
    kind: train
    data: tgt-data
    sources: [source]
    arch: resnet8
    batch: 16
    augment: none
    seed: [0, 1]
    method: [scratch, {l2t-ww: {frozen: true}, label: frozen}]
    optim: {epochs: 1, lr: 0.05}
"#;

/// The `seed=K` value of an instance name.
fn seed_label(instance: &str) -> Option<u64> {
    instance
        .split(['[', ',', ']'])
        .find_map(|p| p.trim().strip_prefix("seed="))
        .and_then(|s| s.parse().ok())
}

/// Entries whose instance name starts with `stage[`: instance → (folder, manifest).
fn entries_of(p: &Proj, stage: &str) -> BTreeMap<String, (PathBuf, serde_json::Value)> {
    p.entries()
        .into_iter()
        .filter_map(|e| {
            let m: serde_json::Value =
                serde_json::from_slice(&std::fs::read(e.join("manifest.json")).ok()?).ok()?;
            let name = m["meta"]["instance"].as_str()?.to_string();
            name.starts_with(&format!("{stage}["))
                .then_some((name, (e, m)))
        })
        .collect()
}

fn indices(dir: &Path, split: &str) -> Vec<u64> {
    let mut v = Store::open(&dir.join("out").join(format!("{split}.parquet")))
        .unwrap_or_else(|e| panic!("{split}.parquet of {dir:?}: {e}"))
        .index;
    v.sort_unstable();
    v
}

#[test]
fn replicates_train_with_their_own_seed_on_their_own_draw_and_share_one_test_set() {
    let p = Proj::new(STAGES);
    let (o, e) = p.ok(&["--threads", "1", "run", "pipelines/p.yaml"]);

    // One label drives both: 2 seeds × 2 methods = 4 trainings, each with the training seed of
    // its subset's draw.
    let targets = entries_of(&p, "target");
    assert_eq!(targets.len(), 4, "{:?}\n{o}\n{e}", targets.keys());
    for (name, (_, m)) in &targets {
        let label = seed_label(name).unwrap_or_else(|| panic!("no seed label in {name}"));
        assert_eq!(
            m["meta"]["params"]["seed"].as_u64(),
            Some(label),
            "{name}: {m}"
        );
    }

    let subsets = entries_of(&p, "tgt-data");
    assert_eq!(subsets.len(), 2, "{:?}", subsets.keys());
    let dirs: Vec<&PathBuf> = subsets.values().map(|(d, _)| d).collect();
    // The draws differ…
    assert_ne!(indices(dirs[0], "train"), indices(dirs[1], "train"));
    assert_ne!(indices(dirs[0], "val"), indices(dirs[1], "val"));
    // …the test set is one: every test image of the five classes, in both replicates.
    let (t0, t1) = (indices(dirs[0], "test"), indices(dirs[1], "test"));
    assert_eq!(t0, t1);
    assert!(
        t0.len() > 5 * 6,
        "the whole test split, not a draw: {}",
        t0.len()
    );

    // The frozen control's λ never moved: its last epoch's λ equals its λ before training.
    for (name, (dir, _)) in targets.iter().filter(|(n, _)| n.contains("frozen")) {
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("out/summary.json")).unwrap()).unwrap();
        let init = summary["initial_stats"].as_object().unwrap();
        let last = summary["epochs"].as_array().unwrap().last().unwrap()["stats"]
            .as_object()
            .unwrap();
        let lambdas: Vec<&String> = init.keys().filter(|k| k.starts_with("lambda.")).collect();
        assert!(!lambdas.is_empty(), "{name}: no λ recorded");
        for k in lambdas {
            assert_eq!(init[k], last[k], "{name}: {k} moved");
        }
    }
}
