//! The content-addressed cache: key stability and explanations, commit/lookup/corruption,
//! work folders and remembered explanations. Concurrency, SIGKILL and the lock across
//! processes are in `cache/processes.rs`.

mod processes;

use l2tww::cache::{Change, Key, KeyBuilder, Lookup, Store, Verify};
use serde_json::json;
use std::path::Path;

// Scheme 2 (issue 13: keys free of paths; the domain line names the scheme).
const GOLDEN_KEY: &str = "33a24c3d89c95394c097f509b04a473a3b092ceb684ddc3a4505c76b3037606a";

/// A key made from a short text, for tests that do not care how it was built.
fn key(text: &str) -> Key {
    KeyBuilder::new("test", 1)
        .param("text", json!(text))
        .finish()
        .0
}

fn hit(lookup: Lookup) -> l2tww::cache::Entry {
    match lookup {
        Lookup::Hit(e) => e,
        other => panic!("expected a hit, got {other:?}"),
    }
}

/// Commits an entry holding `a.txt` and `sub/b.bin`.
fn commit_sample(store: &Store, k: &Key) -> l2tww::cache::Entry {
    let staging = store.stage(k).unwrap();
    std::fs::write(staging.out_dir().join("a.txt"), b"alpha").unwrap();
    std::fs::create_dir_all(staging.out_dir().join("sub")).unwrap();
    std::fs::write(staging.out_dir().join("sub/b.bin"), vec![7u8; 1000]).unwrap();
    staging.commit(json!({"epochs": 3})).unwrap()
}

fn tmp_items(store: &Store) -> usize {
    std::fs::read_dir(store.base().join("tmp")).unwrap().count()
}

#[test]
fn keys_ignore_param_order_and_null_params() {
    let (a, _) = KeyBuilder::new("train", 1)
        .param("opt", json!({"lr": 0.1, "momentum": 0.9}))
        .param("epochs", json!(10))
        .finish();
    let (b, _) = KeyBuilder::new("train", 1)
        .param("epochs", json!(10.0))
        .param("warmup", json!(null))
        .param("opt", json!({"momentum": 0.9, "lr": 0.1, "nesterov": null}))
        .finish();
    assert_eq!(a, b);
}

#[test]
fn a_changed_param_input_or_file_changes_the_key_and_the_diff_names_exactly_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.bin");
    std::fs::write(&data, b"one").unwrap();
    let build = |epochs: u32, up: &str| {
        KeyBuilder::new("train", 1)
            .param("epochs", json!(epochs))
            .input("source", &key(up))
            .file("data", &data)
            .unwrap()
            .finish()
    };
    let (k0, e0) = build(10, "up");
    let (k1, e1) = build(20, "up");
    assert_ne!(k0, k1);
    let changes = e1.diff(&e0);
    assert_eq!(
        changes,
        [Change::Param {
            name: "epochs".into(),
            old: "10".into(),
            new: "20".into()
        }]
    );
    assert_eq!(changes[0].to_string(), "param epochs 10 → 20");

    let (k2, e2) = build(10, "other");
    assert_ne!(k0, k2);
    assert!(matches!(&e2.diff(&e0)[..], [Change::Input { name, .. }] if name == "source"));

    std::fs::write(&data, b"two").unwrap();
    let (k3, e3) = build(10, "up");
    assert_ne!(k0, k3);
    let path = data.to_string_lossy().into_owned();
    assert_eq!(
        e3.diff(&e0),
        [Change::File {
            name: "data".into(),
            path
        }]
    );

    let (k4, e4) = KeyBuilder::new("train", 2)
        .param("epochs", json!(10))
        .input("source", &key("up"))
        .file("data", &data)
        .unwrap()
        .finish();
    assert_ne!(k3, k4);
    assert_eq!(e4.diff(&e3), [Change::Version { old: 1, new: 2 }]);
    assert!(e3.diff(&e3).is_empty());
}

#[test]
fn a_file_moved_elsewhere_with_the_same_content_keeps_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, b"same").unwrap();
    std::fs::write(&b, b"same").unwrap();
    let k = |p: &Path| KeyBuilder::new("k", 1).file("f", p).unwrap().finish();
    assert_eq!(k(&a).0, k(&b).0);
    assert!(k(&b).1.diff(&k(&a).1).is_empty());
}

#[test]
fn a_golden_key_notices_a_change_of_the_hashing_scheme() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("folder/sub")).unwrap();
    std::fs::write(dir.path().join("folder/x.txt"), b"x").unwrap();
    std::fs::write(dir.path().join("folder/sub/y.txt"), b"y").unwrap();
    let (k, e) = KeyBuilder::new("train", 3)
        .param("epochs", json!(200))
        .param(
            "optimizer",
            json!({"name": "sgd", "lr": 0.1, "nesterov": true}),
        )
        .param("sources", json!(["resnet32", "vgg9"]))
        .input("data", &Key::of_bytes(b"upstream"))
        .file("folder", &dir.path().join("folder"))
        .unwrap()
        .finish();
    assert_eq!(k.to_string(), GOLDEN_KEY);
    assert_eq!(e.computed_key(), k);

    // The scheme spelled out: a folder is its sorted `path\0blake3\n` lines, the key is the
    // canonical JSON (sorted fields, no spaces) of kind, version, params, inputs and file hashes.
    let hex = |b: &[u8]| blake3::hash(b).to_hex().to_string();
    let folder = hex(format!(
        "l2tww folder v1\nsub/y.txt\0{}\nx.txt\0{}\n",
        hex(b"y"),
        hex(b"x")
    )
    .as_bytes());
    assert_eq!(e.files["folder"].hash, folder);
    let doc = format!(
        concat!(
            r#"{{"files":{{"folder":"{}"}},"inputs":{{"data":"{}"}},"kind":"train","#,
            r#""params":{{"epochs":200,"optimizer":{{"lr":0.1,"name":"sgd","nesterov":true}},"#,
            r#""sources":["resnet32","vgg9"]}},"version":3}}"#
        ),
        folder,
        hex(b"upstream")
    );
    assert_eq!(
        hex(format!("l2tww cache key v2\n{doc}").as_bytes()),
        GOLDEN_KEY
    );
}

#[test]
fn a_committed_entry_is_a_hit_with_the_same_files_and_meta() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let k = key("commit");
    assert!(matches!(
        store.lookup(&k, Verify::Full).unwrap(),
        Lookup::Miss
    ));
    let committed = commit_sample(&store, &k);
    let found = hit(store.lookup(&k, Verify::Full).unwrap());
    assert_eq!(found.manifest, committed.manifest);
    assert_eq!(found.dir, store.base().join("entries").join(k.to_string()));
    assert_eq!(
        std::fs::read(found.out_dir().join("a.txt")).unwrap(),
        b"alpha"
    );
    let paths: Vec<&str> = found
        .manifest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(paths, ["a.txt", "sub/b.bin"]);
    assert_eq!(found.meta()["epochs"], 3);
    assert_eq!(found.manifest.producer.pid, std::process::id());
    assert_eq!(tmp_items(&store), 0, "the staging folder was renamed away");
    assert!(!found.dir.join(".owner").exists());

    let listed = store.entries().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key, k);
    assert!(listed[0].bytes >= 1005);
    assert_eq!(listed[0].meta["epochs"], 3);
    assert!(store.remove(&k).unwrap());
    assert!(!store.remove(&k).unwrap());
    assert!(store.entries().unwrap().is_empty());
}

#[test]
fn a_flipped_byte_is_corrupt_in_full_mode_and_a_truncation_even_in_fast_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let k = key("corrupt");
    let entry = commit_sample(&store, &k);
    let file = entry.out_dir().join("sub/b.bin");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[500] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    hit(store.lookup(&k, Verify::Fast).unwrap());
    match store.lookup(&k, Verify::Full).unwrap() {
        Lookup::Corrupt(reason) => assert!(reason.contains("sub/b.bin"), "{reason}"),
        other => panic!("{other:?}"),
    }
    std::fs::write(&file, &bytes[..10]).unwrap();
    assert!(matches!(
        store.lookup(&k, Verify::Fast).unwrap(),
        Lookup::Corrupt(_)
    ));
    store.evict(&k).unwrap();
    assert!(matches!(
        store.lookup(&k, Verify::Full).unwrap(),
        Lookup::Miss
    ));
    assert_eq!(tmp_items(&store), 0);
}

#[test]
fn a_missing_file_extra_file_or_garbled_manifest_is_corrupt_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let k = key("damaged");
    let entry = commit_sample(&store, &k);
    std::fs::write(entry.out_dir().join("extra"), b"?").unwrap();
    hit(store.lookup(&k, Verify::Fast).unwrap());
    assert!(matches!(
        store.lookup(&k, Verify::Full).unwrap(),
        Lookup::Corrupt(_)
    ));
    std::fs::remove_file(entry.out_dir().join("a.txt")).unwrap();
    assert!(matches!(
        store.lookup(&k, Verify::Fast).unwrap(),
        Lookup::Corrupt(_)
    ));
    std::fs::write(entry.dir.join("manifest.json"), b"{ not json").unwrap();
    assert!(matches!(
        store.lookup(&k, Verify::Fast).unwrap(),
        Lookup::Corrupt(_)
    ));
    assert_eq!(store.entries().unwrap()[0].meta, serde_json::Value::Null);
    // A commit over a corrupt entry replaces it.
    let again = commit_sample(&store, &k);
    assert_eq!(
        hit(store.lookup(&k, Verify::Full).unwrap()).manifest,
        again.manifest
    );
}

#[test]
fn a_staging_folder_dropped_without_commit_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let staging = store.stage(&key("dropped")).unwrap();
    std::fs::write(staging.out_dir().join("x"), b"x").unwrap();
    assert_eq!(tmp_items(&store), 1);
    assert_eq!(
        store.sweep_tmp().unwrap(),
        0,
        "a live staging folder is not swept"
    );
    drop(staging);
    assert_eq!(tmp_items(&store), 0);
}

#[test]
fn work_folders_and_remembered_explanations_persist() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let k = key("work");
    let work = store.work_dir(&k).unwrap();
    std::fs::write(work.join("ckpt"), b"c").unwrap();
    let reopened = Store::open(dir.path()).unwrap();
    assert_eq!(reopened.work_dir(&k).unwrap(), work);
    assert!(work.join("ckpt").exists());
    assert_eq!(reopened.work_keys().unwrap(), [k]);
    reopened.clear_work(&k).unwrap();
    assert!(!work.exists());

    let (_, e) = KeyBuilder::new("train", 1)
        .param("epochs", json!(5))
        .finish();
    assert!(store.recall("train/a b").is_none());
    store.remember("train/a b", &e).unwrap();
    assert_eq!(reopened.recall("train/a b"), Some(e));
    assert!(reopened.recall("train_a b").is_none());
}
