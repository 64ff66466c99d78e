//! Bad input: truncated and corrupt files, wrong magic numbers and sizes, labels out of range,
//! missing files — errors naming the file and byte offset, and no partial output.
use crate::data_gen::*;
use l2tww::data::prepare::read;
use l2tww::data::{prepare, DatasetName, PrepareSpec, Source};
use std::path::{Path, PathBuf};

fn err_of(name: DatasetName, root: &Path) -> String {
    read(name, root)
        .expect_err("bad input is an error")
        .to_string()
}

#[test]
fn bad_binaries_are_errors_naming_the_file_and_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let d = cifar10(dir.path(), 2, 2);
    // truncated: cut the last record short
    let p = d.join("data_batch_2.bin");
    let b = std::fs::read(&p).unwrap();
    std::fs::write(&p, &b[..b.len() - 10]).unwrap();
    let e = err_of(DatasetName::Cifar10, dir.path());
    assert!(e.contains("data_batch_2.bin: at byte 3073:"), "{e}");
    // label out of range in record 1
    let mut b2 = b.clone();
    b2[3073] = 10;
    std::fs::write(&p, &b2).unwrap();
    let e = err_of(DatasetName::Cifar10, dir.path());
    assert!(e.contains("at byte 3073") && e.contains("label 10"), "{e}");
    // missing file
    std::fs::remove_file(&p).unwrap();
    assert!(err_of(DatasetName::Cifar10, dir.path()).contains("data_batch_2.bin"));

    let idx = tempfile::tempdir().unwrap();
    idx_dir(idx.path(), 4, 2, false);
    let lp = idx.path().join("train-labels-idx1-ubyte");
    std::fs::write(&lp, idx_bytes(&[4], &[0, 1, 12, 3])).unwrap();
    let e = err_of(DatasetName::Mnist, idx.path());
    assert!(
        e.contains("train-labels-idx1-ubyte: at byte 10:") && e.contains("label 12"),
        "{e}"
    );
    std::fs::write(&lp, idx_bytes(&[4], &[0, 1, 2, 3])).unwrap();
    let ip = idx.path().join("t10k-images-idx3-ubyte");
    let mut bad = std::fs::read(&ip).unwrap();
    bad[2] = 0x0d; // float IDX
    std::fs::write(&ip, &bad).unwrap();
    let e = err_of(DatasetName::Mnist, idx.path());
    assert!(
        e.contains("t10k-images-idx3-ubyte: at byte 0:") && e.contains("magic"),
        "{e}"
    );
    bad[2] = 8;
    std::fs::write(
        idx.path().join("t10k-images-idx3-ubyte.gz"),
        gz(&bad[..bad.len() - 5]),
    )
    .unwrap();
    std::fs::remove_file(&ip).unwrap();
    let e = err_of(DatasetName::Mnist, idx.path());
    assert!(
        e.contains("t10k-images-idx3-ubyte.gz: at byte") && e.contains("truncated"),
        "{e}"
    );

    std::fs::write(
        idx.path().join("t10k-images-idx3-ubyte.gz"),
        gz(&idx_bytes(&[u32::MAX; 3], &[0; 8])),
    )
    .unwrap();
    let e = err_of(DatasetName::Mnist, idx.path());
    assert!(e.contains("too large"), "{e}");

    let stl = tempfile::tempdir().unwrap();
    let s = stl10(stl.path(), 2, 1);
    std::fs::write(s.join("train_y.bin"), [1u8, 0]).unwrap();
    let e = err_of(DatasetName::Stl10, stl.path());
    assert!(
        e.contains("train_y.bin: at byte 1:") && e.contains("1-based"),
        "{e}"
    );
}

#[test]
fn a_failed_prepare_leaves_no_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = cifar10(dir.path(), 2, 2);
    std::fs::write(d.join("test_batch.bin"), b"short").unwrap();
    let out = dir.path().join("prepared");
    let spec = PrepareSpec {
        dataset: DatasetName::Cifar10,
        source: Source::Path(dir.path().into()),
        out: out.clone(),
        splits_dir: None,
        val_fraction: 0.1,
        seed: 0,
        progress: false,
    };
    assert!(prepare(&spec).is_err());
    assert!(!out.exists());
    let left: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert!(left.is_empty(), "temporary folders left: {left:?}");
}

#[test]
fn truncated_or_flipped_files_are_errors_never_panics() {
    use l2tww::data::formats::matlab::read_cell_strings;
    use l2tww::data::sample::{Encoding, Sample};
    use l2tww::data::store::write_split;
    use l2tww::data::Store;
    let dir = tempfile::tempdir().unwrap();
    let mat = mat_file("file_list", &["a/b.jpg", "c/d.jpg"], true);
    let p = dir.path().join("l.mat");
    for cut in 0..mat.len() {
        std::fs::write(&p, &mat[..cut]).unwrap();
        assert!(read_cell_strings(&p, "file_list").is_err(), "cut at {cut}");
    }
    let samples: Vec<Sample> = (0..40)
        .map(|i| Sample {
            index: i,
            label: (i % 2) as i64,
            height: 4,
            width: 4,
            channels: 1,
            encoding: Encoding::Raw,
            bytes: vec![i as u8; 16],
        })
        .collect();
    let pq = dir.path().join("s.parquet");
    write_split(
        &pq,
        &samples,
        &["a".into(), "b".into()],
        &serde_json::json!(null),
    )
    .unwrap();
    let whole = std::fs::read(&pq).unwrap();
    let bad = dir.path().join("bad.parquet");
    for cut in (0..whole.len()).step_by(7) {
        std::fs::write(&bad, &whole[..cut]).unwrap();
        assert!(Store::open(&bad).is_err(), "cut at {cut}");
    }
    for at in (0..whole.len()).step_by(5) {
        let mut flipped = whole.clone();
        flipped[at] ^= 0x5a;
        std::fs::write(&bad, &flipped).unwrap();
        let _ = Store::open(&bad); // an error or, where the flip hits slack, the data: no panic
    }
}
