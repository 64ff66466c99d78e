//! Every reader on tiny generated files in its real format, and Fashion-MNIST from Debian's
//! package to Parquet and back.
use crate::data_gen::*;
use l2tww::data::prepare::read;
use l2tww::data::sample::{decode_rgb, Encoding};
use l2tww::data::{prepare, DatasetName, PrepareSpec, Source, Store};
use std::path::Path;

fn err_of(name: DatasetName, root: &Path) -> String {
    read(name, root)
        .expect_err("bad input is an error")
        .to_string()
}

#[test]
fn cifar10_records_become_hwc_images_with_their_labels() {
    let dir = tempfile::tempdir().unwrap();
    cifar10(dir.path(), 3, 4);
    let ds = read(DatasetName::Cifar10, dir.path()).unwrap();
    assert_eq!(ds.classes[3], "cat");
    let (train, test) = (ds.split("train").unwrap(), ds.split("test").unwrap());
    assert_eq!((train.samples.len(), test.samples.len()), (15, 4));
    let s = &train.samples[7]; // batch 3, record 1: global record 7
    assert_eq!((s.label, s.height, s.width, s.channels), (7, 32, 32, 3));
    // pixel (y=2, x=5), channel 1 (green plane) = byte 1024 + 2*32 + 5 of the record
    assert_eq!(s.bytes[(2 * 32 + 5) * 3 + 1], px(0, 7, 1024 + 69));
}

#[test]
fn cifar100_reads_fine_labels_from_an_archive_too() {
    let dir = tempfile::tempdir().unwrap();
    let d = cifar100(dir.path(), 5, 2);
    let entries: Vec<(String, Vec<u8>)> = [
        "fine_label_names.txt",
        "coarse_label_names.txt",
        "train.bin",
        "test.bin",
    ]
    .iter()
    .map(|f| {
        (
            format!("cifar-100-binary/{f}"),
            std::fs::read(d.join(f)).unwrap(),
        )
    })
    .collect();
    let archive = dir.path().join("cifar-100-binary.tar.gz");
    std::fs::write(&archive, targz(&entries)).unwrap();
    let out = dir.path().join("out");
    let spec = PrepareSpec {
        dataset: DatasetName::Cifar100,
        source: Source::Path(archive),
        out: out.clone(),
        splits_dir: None,
        val_fraction: 0.0,
        seed: 0,
        progress: false,
    };
    let done = prepare(&spec).unwrap();
    assert_eq!(done.classes.len(), 100);
    let test = Store::open(&out.join("test.parquet")).unwrap();
    assert_eq!(test.labels, vec![0, 1]);
    assert_eq!(test.image(1).unwrap().pixels[0], px(1, 1, 0));
}

#[test]
fn stl10_column_major_images_and_one_based_labels_are_converted() {
    let dir = tempfile::tempdir().unwrap();
    stl10(dir.path(), 3, 2);
    let ds = read(DatasetName::Stl10, dir.path()).unwrap();
    let s = &ds.split("train").unwrap().samples[2];
    assert_eq!((s.label, s.height, s.width), (2, 96, 96)); // file label 3 → class 2
                                                           // pixel (y=10, x=20), channel 2 is stored at [c][x][y]
    assert_eq!(
        s.bytes[(10 * 96 + 20) * 3 + 2],
        px(0, 2, (2 * 96 + 20) * 96 + 10)
    );
    assert_eq!(ds.split("test").unwrap().samples.len(), 2);
}

#[test]
fn idx_files_read_gzipped_and_raw_alike() {
    for gzip in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        idx_dir(dir.path(), 12, 3, gzip);
        let ds = read(DatasetName::Mnist, dir.path()).unwrap();
        let s = &ds.split("train").unwrap().samples[11];
        assert_eq!((s.label, s.height, s.width, s.channels), (1, 28, 28, 1));
        assert_eq!(s.bytes[100], px(0, 11, 100));
        assert_eq!(ds.split("test").unwrap().samples.len(), 3);
    }
}

fn tiny(root: &Path) {
    let mut f = vec![(
        "tiny-imagenet-200/wnids.txt".to_string(),
        b"n02\nn01\n".to_vec(),
    )];
    for (k, w) in ["n01", "n02"].iter().enumerate() {
        for i in 0..2 {
            f.push((
                format!("tiny-imagenet-200/train/{w}/images/{w}_{i}.JPEG"),
                jpeg(64, 64, k * 2 + i),
            ));
        }
    }
    f.push((
        "tiny-imagenet-200/val/images/val_0.JPEG".into(),
        jpeg(64, 64, 9),
    ));
    f.push((
        "tiny-imagenet-200/val/val_annotations.txt".into(),
        b"val_0.JPEG\tn02\t0\t0\t10\t10\n".to_vec(),
    ));
    files(root, &f);
}

#[test]
fn tinyimagenet_uses_sorted_wnids_and_the_val_annotations() {
    let dir = tempfile::tempdir().unwrap();
    tiny(dir.path());
    let ds = read(DatasetName::TinyImageNet, dir.path()).unwrap();
    assert_eq!(ds.classes, vec!["n01", "n02"]);
    let train = &ds.split("train").unwrap().samples;
    assert_eq!(
        train.iter().map(|s| s.label).collect::<Vec<_>>(),
        vec![0, 0, 1, 1]
    );
    let want = decode_rgb(&jpeg(64, 64, 1)).unwrap().into_raw();
    assert_eq!((train[1].encoding, &train[1].bytes), (Encoding::Raw, &want));
    assert_eq!(ds.split("test").unwrap().samples[0].label, 1);
    // an annotation naming an unknown wnid is an error with the line
    files(
        dir.path(),
        &[(
            "tiny-imagenet-200/val/val_annotations.txt".into(),
            b"val_0.JPEG\tn02\t0\nval_0.JPEG\tn99\t0\n".to_vec(),
        )],
    );
    let e = err_of(DatasetName::TinyImageNet, dir.path());
    assert!(
        e.contains("val_annotations.txt:2:") && e.contains("n99"),
        "{e}"
    );
}

#[test]
fn cub200_follows_its_lists_and_keeps_large_images_encoded() {
    let dir = tempfile::tempdir().unwrap();
    let r = "CUB_200_2011";
    files(
        dir.path(),
        &[
            (
                format!("{r}/classes.txt"),
                b"1 001.Albatross\n2 002.Auklet\n".to_vec(),
            ),
            (
                format!("{r}/images.txt"),
                b"1 002.Auklet/b.png\n2 001.Albatross/z.png\n3 001.Albatross/a.png\n".to_vec(),
            ),
            (
                format!("{r}/image_class_labels.txt"),
                b"1 2\n2 1\n3 1\n".to_vec(),
            ),
            (
                format!("{r}/train_test_split.txt"),
                b"1 1\n2 1\n3 0\n".to_vec(),
            ),
            (format!("{r}/images/002.Auklet/b.png"), png(80, 70, 1)),
            (format!("{r}/images/001.Albatross/z.png"), png(20, 10, 2)),
            (format!("{r}/images/001.Albatross/a.png"), png(20, 10, 3)),
        ],
    );
    let ds = read(DatasetName::Cub200, dir.path()).unwrap();
    assert_eq!(ds.classes, vec!["001.Albatross", "002.Auklet"]);
    let train = &ds.split("train").unwrap().samples;
    assert_eq!(
        train.iter().map(|s| s.label).collect::<Vec<_>>(),
        vec![0, 1],
        "sorted by path"
    );
    assert_eq!(
        (train[1].encoding, train[1].height, train[1].width),
        (Encoding::Png, 70, 80)
    );
    assert_eq!(train[1].bytes, png(80, 70, 1));
    assert_eq!(ds.split("test").unwrap().samples.len(), 1);
    std::fs::remove_file(dir.path().join(r).join("images/001.Albatross/a.png")).unwrap();
    assert!(err_of(DatasetName::Cub200, dir.path()).contains("a.png"));
}

#[test]
fn dogs_indoor_and_stanford40_read_their_split_lists() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    files(
        d,
        &[
            ("dogs/Images/n1-Chihuahua/a.jpg".into(), jpeg(30, 30, 1)),
            ("dogs/Images/n2-Pug/b.jpg".into(), jpeg(30, 30, 2)),
            ("dogs/train_list.txt".into(), b"n2-Pug/b.jpg\n".to_vec()),
            (
                "dogs/test_list.txt".into(),
                b"n1-Chihuahua/a.jpg\n".to_vec(),
            ),
            ("indoor/Images/bar/x.jpg".into(), jpeg(30, 20, 3)),
            ("indoor/Images/airport/y.jpg".into(), jpeg(30, 20, 4)),
            ("indoor/TrainImages.txt".into(), b"bar/x.jpg\n".to_vec()),
            (
                "indoor/TestImages.txt".into(),
                b"airport/y.jpg\nkitchen/z.jpg\n".to_vec(),
            ),
            (
                "s40/JPEGImages/riding_a_bike_001.jpg".into(),
                jpeg(20, 20, 5),
            ),
            ("s40/JPEGImages/applauding_001.jpg".into(), jpeg(20, 20, 6)),
            (
                "s40/ImageSplits/actions.txt".into(),
                b"action\tnumber of images\napplauding\t1\nriding_a_bike\t1\n".to_vec(),
            ),
            (
                "s40/ImageSplits/train.txt".into(),
                b"riding_a_bike_001.jpg\n".to_vec(),
            ),
            (
                "s40/ImageSplits/test.txt".into(),
                b"applauding_001.jpg\n".to_vec(),
            ),
        ],
    );
    let dogs = read(DatasetName::Dogs, &d.join("dogs")).unwrap();
    assert_eq!(
        (
            dogs.classes.len(),
            dogs.split("train").unwrap().samples[0].label
        ),
        (2, 1)
    );
    let e = err_of(DatasetName::Indoor67, &d.join("indoor"));
    assert!(
        e.contains("TestImages.txt:2:") && e.contains("kitchen"),
        "{e}"
    );
    let s40 = read(DatasetName::Stanford40, &d.join("s40")).unwrap();
    assert_eq!(s40.classes, vec!["applauding", "riding_a_bike"]);
    assert_eq!(
        (
            s40.split("train").unwrap().samples[0].label,
            s40.split("test").unwrap().samples[0].label
        ),
        (1, 0)
    );
}

#[test]
fn image_folder_reads_split_folders_in_sorted_order() {
    let dir = tempfile::tempdir().unwrap();
    files(
        dir.path(),
        &[
            ("train/cat/2.png".into(), png(8, 8, 1)),
            ("train/cat/1.png".into(), png(8, 8, 2)),
            ("train/ant/1.png".into(), png(8, 8, 3)),
            ("train/ant/notes.txt".into(), b"ignored".to_vec()),
            ("test/cat/9.png".into(), png(8, 8, 4)),
        ],
    );
    let ds = read(DatasetName::ImageFolder, dir.path()).unwrap();
    assert_eq!(ds.classes, vec!["ant", "cat"]);
    let train = &ds.split("train").unwrap().samples;
    assert_eq!(train.len(), 3);
    assert_eq!(
        train[1].bytes,
        decode_rgb(&png(8, 8, 2)).unwrap().into_raw(),
        "cat/1 before cat/2"
    );
    assert_eq!(ds.split("test").unwrap().samples[0].label, 1);
    // provenance: a digest over the files read, which changes when one file changes
    let before = ds.split("train").unwrap().files_blake3.clone().unwrap();
    files(dir.path(), &[("train/cat/2.png".into(), png(8, 8, 9))]);
    let after = read(DatasetName::ImageFolder, dir.path()).unwrap();
    assert_ne!(
        after.split("train").unwrap().files_blake3.as_ref(),
        Some(&before)
    );
    assert_eq!(
        after.split("test").unwrap().files_blake3,
        ds.split("test").unwrap().files_blake3
    );
}

#[test]
fn fashion_mnist_from_the_debian_package_round_trips_through_parquet() {
    let sys = Path::new("/usr/share/datasets/fashion-mnist");
    if !sys.is_dir() {
        eprintln!("skipped: apt-get install dataset-fashion-mnist to run this test");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fmnist");
    let spec = PrepareSpec {
        dataset: DatasetName::FashionMnist,
        source: Source::System,
        out: out.clone(),
        splits_dir: None,
        val_fraction: 0.0,
        seed: 0,
        progress: false,
    };
    prepare(&spec).unwrap();
    let raw = read(DatasetName::FashionMnist, sys).unwrap();
    for split in ["train", "test"] {
        let store = Store::open(&out.join(format!("{split}.parquet"))).unwrap();
        let want = &raw.split(split).unwrap().samples;
        assert_eq!(store.len(), if split == "train" { 60_000 } else { 10_000 });
        assert_eq!(store.classes[9], "Ankle boot");
        for (i, s) in want.iter().enumerate() {
            assert_eq!(store.labels[i], s.label);
            assert_eq!(store.raw(i).0, &s.bytes[..], "{split} row {i}");
        }
    }
    // and the pixels match the IDX file byte for byte, read independently here
    let mut idx = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(
            std::fs::File::open(sys.join("t10k-images-idx3-ubyte.gz")).unwrap(),
        ),
        &mut idx,
    )
    .unwrap();
    let test = Store::open(&out.join("test.parquet")).unwrap();
    assert_eq!(test.raw(9999).0, &idx[16 + 9999 * 784..]);
}

#[test]
fn stanford_dogs_reads_the_official_mat_lists() {
    use l2tww::data::formats::matlab::read_cell_strings;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = ["n2-Pug/b.jpg", "n1-Chihuahua/a.jpg"];
    files(
        d,
        &[
            ("Images/n1-Chihuahua/a.jpg".into(), jpeg(30, 30, 1)),
            ("Images/n2-Pug/b.jpg".into(), jpeg(30, 30, 2)),
            ("train_list.mat".into(), mat_file("file_list", &train, true)),
            (
                "test_list.mat".into(),
                mat_file("file_list", &["n2-Pug/b.jpg"], false),
            ),
        ],
    );
    assert_eq!(
        read_cell_strings(&d.join("train_list.mat"), "file_list").unwrap(),
        train
    );
    assert_eq!(
        read_cell_strings(&d.join("test_list.mat"), "file_list").unwrap(),
        ["n2-Pug/b.jpg"]
    );
    let ds = read(DatasetName::Dogs, d).unwrap();
    assert_eq!(ds.classes, vec!["n1-Chihuahua", "n2-Pug"]);
    let labels: Vec<i64> = ds
        .split("train")
        .unwrap()
        .samples
        .iter()
        .map(|s| s.label)
        .collect();
    assert_eq!(labels, vec![0, 1], "ImageFolder order");
    assert!(read_cell_strings(&d.join("train_list.mat"), "nothere")
        .unwrap_err()
        .to_string()
        .contains("nothere"));
    // a truncated MAT file names the file and the offset
    let whole = mat_file("file_list", &train, false);
    std::fs::write(d.join("cut.mat"), &whole[..whole.len() - 20]).unwrap();
    let e = read_cell_strings(&d.join("cut.mat"), "file_list")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cut.mat: at byte") && e.contains("truncated"),
        "{e}"
    );
}
