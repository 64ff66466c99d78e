//! The loader (deterministic whatever the thread count, epochs differ, class subsets relabelled,
//! 224 augmentations) and the `data` and `bench` commands end to end.
use crate::data_gen::*;
use crate::util::{l2tww, text};
use l2tww::data::sample::{Encoding, Sample};
use l2tww::data::store::write_split;
use l2tww::data::{Augment, Loader, LoaderConfig, Store, Subset};
use std::path::Path;
use std::sync::Arc;

fn store_32(path: &Path, n: usize) -> Arc<Store> {
    let samples: Vec<Sample> = (0..n)
        .map(|i| Sample {
            index: i as u64,
            label: (i % 5) as i64,
            height: 32,
            width: 32,
            channels: 3,
            encoding: Encoding::Raw,
            bytes: (0..3072).map(|k| px(0, i, k)).collect(),
        })
        .collect();
    let classes: Vec<String> = (0..5).map(|c| format!("c{c}")).collect();
    write_split(path, &samples, &classes, &serde_json::json!(null)).unwrap();
    Arc::new(Store::open(path).unwrap())
}

fn collect(loader: &Loader, epoch: u64) -> (Vec<f32>, Vec<i64>) {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for b in loader.epoch(epoch) {
        let b = b.unwrap();
        xs.extend(Vec::<f32>::try_from(b.x.flatten(0, -1)).unwrap());
        ys.extend(Vec::<i64>::try_from(&b.y).unwrap());
    }
    (xs, ys)
}

#[test]
fn batches_are_the_same_whatever_the_thread_count_and_differ_between_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_32(&dir.path().join("s.parquet"), 70);
    let all = Subset::all(store.len(), "s");
    let cfg = |threads| LoaderConfig {
        batch: 16,
        threads,
        seed: 5,
        ..LoaderConfig::default()
    };
    let one = Loader::new(store.clone(), &all, cfg(1)).unwrap();
    let two = Loader::new(store.clone(), &all, cfg(2)).unwrap();
    assert_eq!(one.len(), 5);
    let a = collect(&one, 3);
    assert_eq!(a.0.len(), 70 * 3 * 32 * 32);
    assert_eq!(a, collect(&two, 3));
    let global = Loader::new(store.clone(), &all, cfg(0)).unwrap();
    assert_eq!(
        a,
        collect(&global, 3),
        "rayon's global pool gives the same batches"
    );
    let b = collect(&one, 4);
    assert_ne!(a.1, b.1, "another epoch, another order");
    let (mut sorted, mut want) = (
        b.1.clone(),
        (0..70).map(|i| (i % 5) as i64).collect::<Vec<_>>(),
    );
    sorted.sort();
    want.sort();
    assert_eq!(sorted, want, "every sample once per epoch");
    // no shuffle, no augmentation, no normalisation: exactly the stored pixels, in order
    let plain = Loader::new(
        store.clone(),
        &all,
        LoaderConfig {
            batch: 32,
            shuffle: false,
            augment: Augment::None,
            normalize: false,
            drop_last: true,
            ..LoaderConfig::default()
        },
    )
    .unwrap();
    let batches: Vec<_> = plain.epoch(0).map(Result::unwrap).collect();
    assert_eq!(batches.len(), 2);
    assert_eq!(batches[1].rows[0], 32);
    let v = f32::try_from(batches[1].x.get(0).get(2).get(3).get(4)).unwrap();
    assert_eq!(v, px(0, 32, (3 * 32 + 4) * 3 + 2) as f32 / 255.0);
}

#[test]
fn class_subsets_are_relabelled_and_per_class_subsets_nest() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_32(&dir.path().join("s.parquet"), 100);
    let sub = Subset::classes(&store.labels, &[4, 2]).unwrap();
    let small = sub
        .restrict_per_class(&store.labels, 3, 1, &store.classes)
        .unwrap();
    let big = sub
        .restrict_per_class(&store.labels, 10, 1, &store.classes)
        .unwrap();
    assert!(small.indices.iter().all(|i| big.indices.contains(i)));
    let loader = Loader::new(
        store.clone(),
        &big,
        LoaderConfig {
            batch: 7,
            ..LoaderConfig::default()
        },
    )
    .unwrap();
    let (_, ys) = collect(&loader, 0);
    assert_eq!(ys.iter().filter(|&&y| y == 0).count(), 10);
    assert_eq!(ys.iter().filter(|&&y| y == 1).count(), 10);
    let e = sub
        .restrict_per_class(&store.labels, 21, 1, &store.classes)
        .unwrap_err()
        .to_string();
    assert!(e.contains("class 2 (c2) has 20 samples"), "{e}");
}

#[test]
fn imagenet_augmentations_give_224_batches_from_encoded_images() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.parquet");
    let samples: Vec<Sample> = (0..3)
        .map(|i| Sample {
            index: i,
            label: 0,
            height: 90,
            width: 120,
            channels: 3,
            encoding: Encoding::Jpeg,
            bytes: jpeg(120, 90, i as usize),
        })
        .collect();
    write_split(&p, &samples, &["x".into()], &serde_json::json!(null)).unwrap();
    let store = Arc::new(Store::open(&p).unwrap());
    for augment in [Augment::Imagenet224Train, Augment::Imagenet224Eval] {
        let l = Loader::new(
            store.clone(),
            &Subset::all(3, "big"),
            LoaderConfig {
                batch: 2,
                augment,
                ..LoaderConfig::default()
            },
        )
        .unwrap();
        let b = l.epoch(0).next().unwrap().unwrap();
        assert_eq!(b.x.size(), vec![2, 3, 224, 224]);
    }
    // 120×90 to 32×32 for the 32×32 setting
    let l = Loader::new(
        store,
        &Subset::all(3, "big"),
        LoaderConfig {
            batch: 3,
            resize_to: Some(32),
            ..LoaderConfig::default()
        },
    )
    .unwrap();
    assert_eq!(
        l.epoch(0).next().unwrap().unwrap().x.size(),
        vec![3, 3, 32, 32]
    );
}

#[test]
fn the_data_commands_prepare_subset_and_show_and_bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    idx_dir(&dir.path().join("mnist"), 40, 10, true);
    let out = dir.path().join("prepared");
    let (o, m) = (out.to_str().unwrap(), dir.path().join("mnist"));
    let r = l2tww(&[
        "data",
        "prepare",
        "mnist",
        "--from",
        m.to_str().unwrap(),
        "--out",
        o,
        "--val-fraction",
        "0.25",
    ]);
    let (stdout, stderr) = text(&r);
    assert!(r.status.success(), "{stderr}");
    assert!(
        stdout.contains("train:      30 rows") && stdout.contains("val:      10 rows"),
        "{stdout}"
    );
    let train = out.join("train.parquet");
    let sj = dir.path().join("sub.json");
    let r = l2tww(&[
        "data",
        "subset",
        train.to_str().unwrap(),
        "--out",
        sj.to_str().unwrap(),
        "--classes",
        "7,3",
        "--per-class",
        "2",
        "--seed",
        "4",
    ]);
    assert!(r.status.success(), "{}", text(&r).1);
    let s = Subset::load(&sj).unwrap();
    assert_eq!((s.indices.len(), s.classes.clone()), (4, Some(vec![7, 3])));
    let r = l2tww(&[
        "data",
        "subset",
        train.to_str().unwrap(),
        "--out",
        sj.to_str().unwrap(),
        "--per-class",
        "4",
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(text(&r).1.contains("has 3 samples"), "{}", text(&r).1);
    let png = dir.path().join("grid.png");
    let r = l2tww(&[
        "data",
        "show",
        train.to_str().unwrap(),
        "--png",
        png.to_str().unwrap(),
    ]);
    let (stdout, _) = text(&r);
    assert!(
        r.status.success() && stdout.contains("30 rows, 10 classes"),
        "{stdout}"
    );
    let grid = image::open(&png).unwrap().to_rgb8();
    // 8 images of 48 px per class, one row per class, after a margin with the class labels.
    assert_eq!(grid.height(), 10 * 48);
    assert!(grid.width() > 8 * 48, "no label margin: {}", grid.width());
    let margin = grid.width() - 8 * 48;
    for row in 0..10 {
        let inked = (0..margin)
            .flat_map(|x| (row * 48..(row + 1) * 48).map(move |y| (x, y)))
            .filter(|&(x, y)| grid.get_pixel(x, y).0.iter().all(|&c| c < 128))
            .count();
        assert!(inked > 20, "class {row} has no label ({inked} dark pixels)");
    }
    // a truncated file: exit 2, the file named, no output folder
    std::fs::write(
        m.join("t10k-labels-idx1-ubyte.gz"),
        gz(&idx_bytes(&[10], &[1, 2])),
    )
    .unwrap();
    let bad = dir.path().join("bad");
    let r = l2tww(&[
        "data",
        "prepare",
        "mnist",
        "--from",
        m.to_str().unwrap(),
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        text(&r).1.contains("t10k-labels-idx1-ubyte.gz: at byte"),
        "{}",
        text(&r).1
    );
    assert!(!bad.exists());
}

#[test]
fn bench_loader_prints_one_json_line_with_images_per_second() {
    let r = l2tww(&["bench", "loader", "--epochs", "1", "--device", "cpu"]);
    let (stdout, stderr) = text(&r);
    assert!(r.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["images"], 10_000);
    assert!(v["images_per_s"].as_f64().unwrap() > 0.0);
}
