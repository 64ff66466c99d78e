//! Source statistics end to end on a real (tiny) setting: a Parquet split of 40 images 32×32 in
//! 4 classes and a real resnet20 checkpoint; the tables against a direct forward pass, the
//! byte-stability of the statistics, the subset choice of training, the standardised
//! meta-network inputs, and the `l2tww stats` command.

use crate::util::{l2tww, quadrant_samples, text, write_quadrants};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int64Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use l2tww::data::sample::Sample;
use l2tww::data::{Batching, Selection};
use l2tww::data::{Store, Subset};
use l2tww::models::{weights, Arch, Model};
use l2tww::transfer::methods::meta_networks::{MetaNetworks, Standardization};
use l2tww::transfer::methods::pairs::Pair;
use l2tww::transfer::methods::{BuildContext, MethodSpec};
use l2tww::transfer::stats::{compute_source_stats, gap, SourceStatsSpec, StatsOptions};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

const MEAN: [f64; 3] = [0.485, 0.456, 0.406];
const STD: [f64; 3] = [0.229, 0.224, 0.225];

/// 40 quadrant images (see `util::quadrant_samples`) as a split, and a resnet20.
fn fixture(dir: &Path) -> (PathBuf, PathBuf, Vec<Sample>) {
    let samples = quadrant_samples(40, 7, 100);
    let split = dir.join("train.parquet");
    write_quadrants(&split, &samples);
    tch::manual_seed(11);
    let model = Model::new(Arch::CifarResNet(20), 10, Device::Cpu, Kind::Float).unwrap();
    let ckpt = dir.join("source.safetensors");
    weights::save(&model.vs, &BTreeMap::new(), &ckpt).unwrap();
    (ckpt, split, samples)
}

fn read_parquet(path: &Path) -> RecordBatch {
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    assert_eq!(batches.len(), 1, "small tables read as one batch");
    batches.remove(0)
}

/// The pooled feature column of tap `name` as rows of f32.
fn feature_rows(b: &RecordBatch, name: &str) -> Vec<Vec<f32>> {
    let list = b.column_by_name(name).unwrap().as_fixed_size_list();
    (0..list.len())
        .map(|r| {
            list.value(r)
                .as_primitive::<Float32Type>()
                .values()
                .to_vec()
        })
        .collect()
}

/// A sample normalised as the training loader does, (1, 3, 32, 32), computed independently.
fn input(s: &Sample) -> Tensor {
    let mut v = vec![0f32; 3 * 32 * 32];
    for ch in 0..3 {
        for p in 0..32 * 32 {
            let t = s.bytes[p * 3 + ch] as f64 / 255.0;
            v[ch * 1024 + p] = ((t - MEAN[ch]) / STD[ch]) as f32;
        }
    }
    Tensor::from_slice(&v).view([1, 3, 32, 32])
}

#[test]
fn stats_describe_every_image_at_every_tap_as_a_direct_forward_pass_does() {
    let dir = tempfile::tempdir().unwrap();
    let (ckpt, split, samples) = fixture(dir.path());
    let out = dir.path().join("stats");
    let spec = SourceStatsSpec::new(ckpt.clone(), split.clone(), out.clone());
    let stats = compute_source_stats(&spec, Device::Cpu, Kind::Float).unwrap();
    let model = Model::from_checkpoint(&ckpt, Device::Cpu, Kind::Float).unwrap();
    let taps = model.net.taps().to_vec();
    assert_eq!(taps.len(), 9);

    let f = read_parquet(&out.join("features.parquet"));
    assert_eq!(f.num_rows(), 40);
    let rows = f
        .column_by_name("row")
        .unwrap()
        .as_primitive::<UInt64Type>();
    assert_eq!(rows.values().to_vec(), (0..40).collect::<Vec<u64>>());
    let labels = f
        .column_by_name("label")
        .unwrap()
        .as_primitive::<Int64Type>();
    assert_eq!(labels.value(13), 1);

    let one = 17;
    let direct = tch::no_grad(|| model.net.forward_t(&input(&samples[one]), false));
    let c = read_parquet(&out.join("channels.parquet"));
    let (layer, mean, std) = (
        c.column_by_name("layer").unwrap().as_string::<i32>(),
        c.column_by_name("mean")
            .unwrap()
            .as_primitive::<Float64Type>(),
        c.column_by_name("std")
            .unwrap()
            .as_primitive::<Float64Type>(),
    );
    let mut at = 0;
    for (t, tap) in taps.iter().enumerate() {
        let rows = feature_rows(&f, &tap.name);
        assert!(rows.iter().all(|r| r.len() == tap.channels as usize));
        let want = Vec::<f32>::try_from(gap(&direct.features[t]).flatten(0, -1)).unwrap();
        for (a, b) in rows[one].iter().zip(&want) {
            assert!(
                (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
                "{}: {a} vs {b}",
                tap.name
            );
        }
        for ch in 0..tap.channels as usize {
            let col: Vec<f64> = rows.iter().map(|r| r[ch] as f64).collect();
            let m = col.iter().sum::<f64>() / 40.0;
            let s = (col.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 40.0).sqrt();
            assert_eq!(layer.value(at), tap.name);
            assert!((mean.value(at) - m).abs() <= 1e-12 * (1.0 + m.abs()));
            assert!((std.value(at) - s).abs() <= 1e-12 * (1.0 + s));
            at += 1;
        }
    }
    assert_eq!(at, c.num_rows());

    let l = read_parquet(&out.join("logme.parquet"));
    assert_eq!(l.num_rows(), taps.len());
    let (dims, scores) = (
        l.column_by_name("dim").unwrap().as_primitive::<Int64Type>(),
        l.column_by_name("logme")
            .unwrap()
            .as_primitive::<Float64Type>(),
    );
    for (i, tap) in taps.iter().enumerate() {
        assert_eq!(dims.value(i), tap.channels);
        assert!(scores.value(i).is_finite(), "{}", tap.name);
    }
    assert_eq!(stats.ranking().len(), taps.len());

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("stats.json")).unwrap()).unwrap();
    let hash = blake3::hash(&std::fs::read(&ckpt).unwrap())
        .to_hex()
        .to_string();
    assert_eq!(json["checkpoint"]["blake3"], hash.as_str());
    assert_eq!(json["arch"], "resnet20");
    assert_eq!(json["taps"][8]["channels"], 64);
    assert_eq!(json["key"], stats.provenance.key.as_str());
}

#[test]
fn the_same_inputs_give_the_same_bytes_and_the_subset_training_would_see() {
    let dir = tempfile::tempdir().unwrap();
    let (ckpt, split, _) = fixture(dir.path());
    let spec = |out: &str, batch| SourceStatsSpec {
        select: Selection {
            classes: Some(vec![3, 1]),
            per_class: Some(4),
        },
        batching: Batching {
            batch,
            resize_to: None,
        },
        options: StatsOptions {
            seed: 5,
            ..StatsOptions::default()
        },
        ..SourceStatsSpec::new(ckpt.clone(), split.clone(), dir.path().join(out))
    };
    let a = compute_source_stats(&spec("a", 3), Device::Cpu, Kind::Float).unwrap();
    let b = compute_source_stats(&spec("b", 3), Device::Cpu, Kind::Float).unwrap();
    for name in ["channels.parquet", "logme.parquet", "features.parquet"] {
        let read = |d: &str| std::fs::read(dir.path().join(d).join(name)).unwrap();
        assert_eq!(read("a"), read("b"), "{name}");
    }
    assert_eq!(a.provenance.key, b.provenance.key);

    let store = Store::open(&split).unwrap();
    let want = Subset::classes(&store.labels, &[3, 1])
        .unwrap()
        .restrict_per_class(&store.labels, 4, 5, &store.classes)
        .unwrap();
    let f = read_parquet(&dir.path().join("a/features.parquet"));
    let rows = f
        .column_by_name("row")
        .unwrap()
        .as_primitive::<UInt64Type>();
    let got: Vec<usize> = rows.values().iter().map(|&r| r as usize).collect();
    assert_eq!(got, want.indices);
    let labels = f
        .column_by_name("label")
        .unwrap()
        .as_primitive::<Int64Type>();
    for (r, l) in got.iter().zip(labels.values()) {
        assert_eq!(*l, if store.labels[*r] == 3 { 0 } else { 1 });
    }
    // Another subset seed is another key.
    let c = compute_source_stats(
        &SourceStatsSpec {
            options: StatsOptions {
                seed: 6,
                ..StatsOptions::default()
            },
            ..spec("c", 8)
        },
        Device::Cpu,
        Kind::Float,
    )
    .unwrap();
    assert_ne!(c.provenance.key, a.provenance.key);
}

#[test]
fn standardised_meta_network_inputs_have_zero_mean_and_unit_std_over_the_stats_images() {
    let dir = tempfile::tempdir().unwrap();
    let (ckpt, split, samples) = fixture(dir.path());
    let out = dir.path().join("stats");
    compute_source_stats(
        &SourceStatsSpec::new(ckpt.clone(), split, out.clone()),
        Device::Cpu,
        Kind::Float,
    )
    .unwrap();
    let channels = out.join("channels.parquet");
    let source = Model::from_checkpoint(&ckpt, Device::Cpu, Kind::Float).unwrap();
    let taps = source.net.taps().to_vec();
    let pairs: Vec<Pair> = (0..taps.len())
        .map(|s| Pair {
            source: s,
            target: 0,
        })
        .collect();
    let needed: Vec<usize> = (0..taps.len()).collect();
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let plain = MetaNetworks::new(&(vs.root() / "a"), &taps, &pairs, None, 1.0);
    let st = Standardization::read(
        &channels,
        "resnet20",
        &taps,
        &needed,
        Device::Cpu,
        Kind::Float,
    )
    .unwrap();
    let standardised =
        MetaNetworks::new(&(vs.root() / "b"), &taps, &pairs, None, 1.0).with_standardization(st);
    let x = Tensor::cat(&samples.iter().map(input).collect::<Vec<_>>(), 0);
    let feats = tch::no_grad(|| source.net.forward_t(&x, false)).features;
    let f = read_parquet(&out.join("features.parquet"));
    for (t, (raw, z)) in plain
        .inputs(&feats)
        .iter()
        .zip(standardised.inputs(&feats))
        .enumerate()
    {
        // Off: exactly the pooled features (as stored, up to the forward's batch size).
        let stored = Tensor::from_slice(&feature_rows(&f, &taps[t].name).concat())
            .view([40, taps[t].channels]);
        assert!(f64::try_from((raw - stored).abs().max()).unwrap() < 1e-5);
        let z = z.to_kind(Kind::Double);
        let mean = Vec::<f64>::try_from(z.mean_dim(0, false, Kind::Double)).unwrap();
        let std = Vec::<f64>::try_from(z.std_dim(0, false, false)).unwrap();
        let raw_std =
            Vec::<f64>::try_from(raw.to_kind(Kind::Double).std_dim(0, false, false)).unwrap();
        for ch in 0..mean.len() {
            assert!(
                mean[ch].abs() < 1e-4,
                "{} {ch}: mean {}",
                taps[t].name,
                mean[ch]
            );
            // A channel constant over the images is only centred.
            let want = if raw_std[ch] > 0.0 { 1.0 } else { 0.0 };
            assert!(
                (std[ch] - want).abs() < 1e-3,
                "{} {ch}: std {}",
                taps[t].name,
                std[ch]
            );
        }
    }

    // Through the method spec: one file per source, of the source's architecture.
    let target = Model::new(Arch::CifarResNet(20), 4, Device::Cpu, Kind::Float).unwrap();
    let sources = [source];
    let ctx = BuildContext {
        target: &target,
        sources: &sources,
        input: 32,
        device: Device::Cpu,
        kind: Kind::Float,
        momentum: 0.9,
    };
    let yaml = |s: &str| serde_yaml_ng::from_str::<MethodSpec>(s).unwrap();
    let ok = yaml(&format!("l2t-ww: {{standardize: {}}}", channels.display()));
    assert!(ok.build(&ctx).is_ok());
    let two = yaml(&format!(
        "l2t-w: {{standardize: [{0}, {0}]}}",
        channels.display()
    ));
    let e = two.build(&ctx).err().unwrap().to_string();
    assert!(e.contains("2 statistics files for 1 source"), "{e}");
    let vgg = [Model::new(Arch::Vgg9Bn, 10, Device::Cpu, Kind::Float).unwrap()];
    let e = ok
        .build(&BuildContext {
            sources: &vgg,
            ..ctx
        })
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("channels.parquet") && e.contains("resnet20"),
        "{e}"
    );
}

#[test]
fn the_stats_command_ranks_the_layers_and_a_missing_split_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (ckpt, split, _) = fixture(dir.path());
    let out = dir.path().join("cli");
    let args = |data: &Path| {
        vec![
            "stats".to_string(),
            ckpt.display().to_string(),
            "--data".into(),
            data.display().to_string(),
            "--out".into(),
            out.display().to_string(),
            "--device".into(),
            "cpu".into(),
            "--batch".into(),
            "16".into(),
        ]
    };
    let run = |a: Vec<String>| l2tww(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let ok = run(args(&split));
    let (stdout, stderr) = text(&ok);
    assert!(ok.status.success(), "{stderr}");
    for name in ["block1", "blocks2.1", "block5", "blocks6.1"] {
        assert!(stdout.contains(name), "{stdout}");
    }
    assert!(
        stdout.contains("LogME") && stdout.contains("40 images"),
        "{stdout}"
    );
    assert!(out.join("stats.json").exists());

    let missing = dir.path().join("nowhere/missing.parquet");
    let bad = run(args(&missing));
    let (_, stderr) = text(&bad);
    assert_eq!(bad.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("missing.parquet"), "{stderr}");
}
