//! The Parquet store (schema, metadata, validation on open), the paper's split files from
//! ../shared/reference/splits, and subsets written and read as JSON.
use crate::data_gen::*;
use l2tww::data::sample::{Encoding, Sample};
use l2tww::data::splits::read_paper_splits;
use l2tww::data::store::write_split;
use l2tww::data::{prepare, DatasetName, PrepareSpec, Source, Store, Subset};
use std::path::PathBuf;

fn reference_splits() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/splits");
    d.join("cifar100-train.json").exists().then_some(d)
}

#[test]
fn a_split_file_round_trips_with_its_schema_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.parquet");
    let samples: Vec<Sample> = (0..2500)
        .map(|i| Sample {
            index: 1000 + i,
            label: (i % 3) as i64,
            height: 2,
            width: 3,
            channels: 1,
            encoding: Encoding::Raw,
            bytes: (0..6).map(|k| (i as usize * 6 + k) as u8).collect(),
        })
        .chain(std::iter::once(Sample {
            index: 0,
            label: 2,
            height: 70,
            width: 80,
            channels: 3,
            encoding: Encoding::Png,
            bytes: png(80, 70, 5),
        }))
        .collect();
    let classes: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
    write_split(&p, &samples, &classes, &serde_json::json!({"dataset": "t"})).unwrap();
    let s = Store::open(&p).unwrap();
    assert_eq!(
        (s.len(), s.classes.clone(), s.provenance["dataset"].clone()),
        (2501, classes, serde_json::json!("t"))
    );
    assert_eq!(
        (s.index[2499], s.labels[2499], s.raw(2499).0),
        (3499, 0, &samples[2499].bytes[..])
    );
    assert_eq!(s.counts(), vec![834, 833, 834]);
    let img = s.image(2500).unwrap();
    assert_eq!((img.height, img.width, img.channels), (70, 80, 3));
    assert_eq!(s.shape(2500), (70, 80, 3));
    // not a Parquet file / not ours: errors naming the file
    std::fs::write(dir.path().join("x.parquet"), b"PAR1 nonsense").unwrap();
    let e = Store::open(&dir.path().join("x.parquet"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("x.parquet"), "{e}");
}

#[test]
fn the_papers_split_files_are_consistent_with_the_datasets() {
    let Some(dir) = reference_splits() else {
        eprintln!("skipped: ../shared/reference/splits not present");
        return;
    };
    for (prefix, train_len, test_len, classes) in [
        ("cifar100", 50_000, 10_000, 100),
        ("stl10", 5_000, 8_000, 10),
        ("cub200", 5_994, 5_794, 200),
        ("dog", 12_000, 8_580, 120),
    ] {
        let [tr, va, te] = read_paper_splits(&dir, prefix).unwrap();
        tr.check(train_len, classes).unwrap();
        va.check(train_len, classes).unwrap();
        te.check(test_len, classes).unwrap();
        assert_eq!(
            tr.indices.len() + va.indices.len(),
            train_len,
            "{prefix}: train and val cover the training set"
        );
        assert!(
            va.indices
                .iter()
                .all(|i| tr.indices.binary_search(i).is_err()),
            "{prefix}: disjoint"
        );
        assert!(
            tr.check(train_len - 1, classes).is_err(),
            "an index past the end is caught"
        );
    }
}

#[test]
fn cifar100_with_the_papers_splits_goes_to_parquet_with_their_indices() {
    let Some(splits) = reference_splits() else {
        eprintln!("skipped: ../shared/reference/splits not present");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    cifar100(dir.path(), 50_000, 10_000);
    let out = dir.path().join("c100");
    let spec = PrepareSpec {
        dataset: DatasetName::Cifar100,
        source: Source::Path(dir.path().into()),
        out: out.clone(),
        splits_dir: Some(splits.clone()),
        val_fraction: 0.1,
        seed: 0,
        progress: false,
    };
    let done = prepare(&spec).unwrap();
    assert_eq!(
        done.splits.iter().map(|s| s.2).collect::<Vec<_>>(),
        vec![45_000, 5_000, 10_000]
    );
    let [_, va, _] = read_paper_splits(&splits, "cifar100").unwrap();
    let val = Store::open(&out.join("val.parquet")).unwrap();
    assert_eq!(
        val.index,
        va.indices.iter().map(|&i| i as u64).collect::<Vec<_>>()
    );
    let r = 1234;
    let i = va.indices[r];
    assert_eq!(val.labels[r], (i % 100) as i64);
    assert_eq!(val.image(r).unwrap().pixels[0], px(0, i, 0));
    assert!(val.provenance["selection"]["split_file"]
        .as_str()
        .unwrap()
        .ends_with("cifar100-val.json"));
    // the paper has no split files for CIFAR-10
    cifar10(dir.path(), 1, 1);
    let bad = PrepareSpec {
        dataset: DatasetName::Cifar10,
        out: dir.path().join("c10"),
        ..spec
    };
    assert!(prepare(&bad).is_err());
}

#[test]
fn subsets_save_and_load_as_json_and_bad_files_name_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let labels: Vec<i64> = (0..100).map(|i| i % 4).collect();
    let s = Subset::classes(&labels, &[3, 1])
        .unwrap()
        .restrict_per_class(&labels, 5, 9, &[])
        .unwrap();
    assert_eq!(
        (s.indices.len(), s.seed, s.per_class),
        (10, Some(9), Some(5))
    );
    let p = dir.path().join("s.json");
    s.save(&p).unwrap();
    assert_eq!(Subset::load(&p).unwrap(), s);
    std::fs::write(&p, "{\n  \"indices\": [1,\n  \"x\"]\n}").unwrap();
    let e = Subset::load(&p).unwrap_err().to_string();
    assert!(e.contains("s.json:3:"), "{e}");
}

#[test]
fn preparing_twice_gives_byte_identical_parquet_files() {
    let dir = tempfile::tempdir().unwrap();
    cifar10(dir.path(), 3, 3);
    let mut hashes = Vec::new();
    for k in 0..2 {
        let out = dir.path().join(format!("out{k}"));
        let spec = PrepareSpec {
            dataset: DatasetName::Cifar10,
            source: Source::Path(dir.path().join("cifar-10-batches-bin")),
            out: out.clone(),
            splits_dir: None,
            val_fraction: 0.2,
            seed: 3,
            progress: false,
        };
        prepare(&spec).unwrap();
        hashes.push(
            ["train", "val", "test"]
                .map(|s| blake3::hash(&std::fs::read(out.join(format!("{s}.parquet"))).unwrap())),
        );
    }
    assert_eq!(hashes[0], hashes[1]);
}
