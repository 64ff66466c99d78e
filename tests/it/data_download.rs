//! Downloads for real against an HTTP server on 127.0.0.1: verified fetch then no refetch,
//! checksum mismatch, truncated transfer and resume, hostile archives, and a whole dataset
//! downloaded, extracted and prepared.
use crate::data_gen::*;
use l2tww::data::acquire::{download, Checksum, Fetched, RemoteFile};
use l2tww::data::extract::extract;
use l2tww::data::{prepare, DatasetName, PrepareSpec, Source, Store};
use md5::Digest;
use std::collections::HashMap;

fn md5_hex(b: &[u8]) -> String {
    format!("{:x}", md5::Md5::digest(b))
}

fn remote(server: &Server, name: &str, checksum: Checksum) -> RemoteFile {
    RemoteFile {
        url: format!("{}/{name}", server.base),
        file_name: name.into(),
        checksum,
    }
}

#[test]
fn a_verified_file_is_fetched_once_and_never_again() {
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let server = serve(HashMap::from([(
        "/f.bin".to_string(),
        Serve::Full(body.clone()),
    )]));
    let dir = tempfile::tempdir().unwrap();
    let f = remote(&server, "f.bin", Checksum::Md5(md5_hex(&body)));
    assert_eq!(
        download(&f, dir.path(), false).unwrap(),
        Fetched::Downloaded
    );
    assert_eq!(std::fs::read(dir.path().join("f.bin")).unwrap(), body);
    assert_eq!(
        download(&f, dir.path(), false).unwrap(),
        Fetched::AlreadyPresent
    );
    assert_eq!(
        server.log.lock().unwrap().len(),
        1,
        "the second call made no request"
    );
    // unknown checksum: the blake3 is recorded and then used to verify
    let u = remote(&server, "f.bin", Checksum::Unknown);
    let other = tempfile::tempdir().unwrap();
    assert_eq!(
        download(&u, other.path(), false).unwrap(),
        Fetched::Downloaded
    );
    let recorded = std::fs::read_to_string(other.path().join("f.bin.blake3")).unwrap();
    assert_eq!(recorded, blake3::hash(&body).to_hex().to_string());
    assert_eq!(
        download(&u, other.path(), false).unwrap(),
        Fetched::AlreadyPresent
    );
}

#[test]
fn a_checksum_mismatch_is_an_error_and_leaves_nothing() {
    let server = serve(HashMap::from([(
        "/f.bin".to_string(),
        Serve::Full(b"tampered".to_vec()),
    )]));
    let dir = tempfile::tempdir().unwrap();
    let f = remote(&server, "f.bin", Checksum::Md5(md5_hex(b"original")));
    let e = download(&f, dir.path(), false).unwrap_err().to_string();
    assert!(
        e.contains("checksum mismatch") && e.contains(&md5_hex(b"original")),
        "{e}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let missing = remote(&server, "nothere.bin", Checksum::Unknown);
    assert!(download(&missing, dir.path(), false)
        .unwrap_err()
        .to_string()
        .contains("404"));
}

#[test]
fn a_truncated_transfer_is_an_error_and_the_next_run_resumes_with_a_range_request() {
    let body: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let server = serve(HashMap::from([(
        "/big.bin".to_string(),
        Serve::Truncated(body.clone(), 20_000),
    )]));
    let dir = tempfile::tempdir().unwrap();
    let f = remote(&server, "big.bin", Checksum::Md5(md5_hex(&body)));
    let e = download(&f, dir.path(), false).unwrap_err().to_string();
    assert!(e.contains("20000 of 50000") && e.contains("resume"), "{e}");
    assert_eq!(
        std::fs::metadata(dir.path().join("big.bin.part"))
            .unwrap()
            .len(),
        20_000
    );
    assert!(!dir.path().join("big.bin").exists());
    server
        .files
        .lock()
        .unwrap()
        .insert("/big.bin".into(), Serve::Full(body.clone()));
    assert_eq!(
        download(&f, dir.path(), false).unwrap(),
        Fetched::Downloaded
    );
    assert_eq!(std::fs::read(dir.path().join("big.bin")).unwrap(), body);
    let log = server.log.lock().unwrap();
    assert_eq!(log.last().unwrap().1.as_deref(), Some("bytes=20000-"));
}

#[test]
fn hostile_archives_are_refused_and_nothing_is_extracted() {
    let dir = tempfile::tempdir().unwrap();
    for (name, kind, why) in [
        ("../escape.txt", tar::EntryType::Regular, "`..`"),
        ("/tmp/l2tww-abs.txt", tar::EntryType::Regular, "absolute"),
        ("link", tar::EntryType::Symlink, "links"),
        ("dev", tar::EntryType::Char, "devices"),
    ] {
        let archive = dir.path().join("evil.tar.gz");
        std::fs::write(&archive, hostile_targz(name, kind)).unwrap();
        let dest = dir.path().join("out");
        let e = extract(&archive, &dest).unwrap_err().to_string();
        assert!(
            e.contains("evil.tar.gz: at byte 1024:") && e.contains(why),
            "{name}: {e}"
        );
        assert!(!dest.exists());
        assert!(!dir.path().join("escape.txt").exists());
    }
    assert!(!std::path::Path::new("/tmp/l2tww-abs.txt").exists());
    let left = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(left, 1, "only the archive itself remains");
    // a corrupt archive is an error too
    let archive = dir.path().join("cut.tar.gz");
    let good = targz(&[("a.bin".into(), vec![1; 5000])]);
    std::fs::write(&archive, &good[..good.len() / 2]).unwrap();
    assert!(extract(&archive, &dir.path().join("cut"))
        .unwrap_err()
        .to_string()
        .contains("cut.tar.gz"));
}

#[test]
fn a_dataset_is_downloaded_verified_extracted_and_prepared() {
    let src = tempfile::tempdir().unwrap();
    let d = cifar10(src.path(), 4, 6);
    let entries: Vec<(String, Vec<u8>)> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                format!(
                    "cifar-10-batches-bin/{}",
                    p.file_name().unwrap().to_string_lossy()
                ),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    let archive = targz(&entries);
    let server = serve(HashMap::from([(
        "/cifar-10-binary.tar.gz".to_string(),
        Serve::Full(archive.clone()),
    )]));
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let files = vec![remote(
        &server,
        "cifar-10-binary.tar.gz",
        Checksum::Md5(md5_hex(&archive)),
    )];
    let spec = PrepareSpec {
        dataset: DatasetName::Cifar10,
        source: Source::Download {
            cache: cache.clone(),
            files,
        },
        out: work.path().join("cifar10"),
        splits_dir: None,
        val_fraction: 0.25,
        seed: 1,
        progress: false,
    };
    let done = prepare(&spec).unwrap();
    assert_eq!(
        done.splits.iter().map(|s| s.2).collect::<Vec<_>>(),
        vec![10, 10, 6]
    );
    let test = Store::open(&work.path().join("cifar10/test.parquet")).unwrap();
    assert_eq!(test.labels, vec![0, 1, 2, 3, 4, 5]);
    let prov = &test.provenance;
    assert_eq!(prov["reader_version"], "l2tww-data/1");
    let src_b3 = blake3::hash(&std::fs::read(d.join("test_batch.bin")).unwrap())
        .to_hex()
        .to_string();
    assert!(
        prov["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["blake3"] == src_b3.as_str()),
        "{prov}"
    );
    prepare(&spec).unwrap();
    assert_eq!(
        server.log.lock().unwrap().len(),
        1,
        "present and verified: not fetched again"
    );
}

#[test]
fn a_hostile_archive_served_over_http_fails_the_prepare_and_leaves_no_output() {
    let archive = hostile_targz("../../escape.txt", tar::EntryType::Regular);
    let server = serve(HashMap::from([(
        "/cifar-10-binary.tar.gz".to_string(),
        Serve::Full(archive.clone()),
    )]));
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let files = vec![remote(
        &server,
        "cifar-10-binary.tar.gz",
        Checksum::Md5(md5_hex(&archive)),
    )];
    let out = work.path().join("cifar10");
    let spec = PrepareSpec {
        dataset: DatasetName::Cifar10,
        source: Source::Download {
            cache: cache.clone(),
            files,
        },
        out: out.clone(),
        splits_dir: None,
        val_fraction: 0.1,
        seed: 0,
        progress: false,
    };
    let e = prepare(&spec).unwrap_err().to_string();
    assert!(e.contains("refusing entry `../../escape.txt`"), "{e}");
    assert!(!out.exists());
    assert!(!work.path().join("escape.txt").exists() && !cache.join("escape.txt").exists());
    assert_eq!(
        std::fs::read_dir(cache.join("data")).unwrap().count(),
        0,
        "nothing extracted"
    );
}

#[test]
fn zip_archives_extract_and_hostile_zip_entries_are_refused() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let zip_bytes = |entries: &[(&str, &[u8])]| {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in entries {
            w.start_file(*name, zip::write::FileOptions::default())
                .unwrap();
            w.write_all(body).unwrap();
        }
        w.finish().unwrap().into_inner()
    };
    let good = dir.path().join("good.zip");
    std::fs::write(
        &good,
        zip_bytes(&[
            ("ImageSplits/train.txt", b"a_001.jpg\n"),
            ("JPEGImages/a_001.jpg", b"x"),
        ]),
    )
    .unwrap();
    extract(&good, &dir.path().join("g")).unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("g/ImageSplits/train.txt")).unwrap(),
        b"a_001.jpg\n"
    );
    let evil = dir.path().join("evil.zip");
    std::fs::write(
        &evil,
        zip_bytes(&[("ok.txt", b"ok"), ("../evil.txt", b"evil")]),
    )
    .unwrap();
    let e = extract(&evil, &dir.path().join("e"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("evil.zip") && e.contains("refusing entry `../evil.txt`"),
        "{e}"
    );
    assert!(!dir.path().join("e").exists() && !dir.path().join("evil.txt").exists());
}

#[test]
fn a_partial_file_that_is_already_whole_is_fetched_again_from_zero() {
    let body = b"0123456789".to_vec();
    let server = serve(HashMap::from([(
        "/f.bin".to_string(),
        Serve::Full(body.clone()),
    )]));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.bin.part"), b"abcdefghij").unwrap();
    let f = remote(&server, "f.bin", Checksum::Md5(md5_hex(&body)));
    assert_eq!(
        download(&f, dir.path(), false).unwrap(),
        Fetched::Downloaded
    );
    assert_eq!(std::fs::read(dir.path().join("f.bin")).unwrap(), body);
    let log = server.log.lock().unwrap();
    assert_eq!(
        (log[0].1.as_deref(), log[1].1.as_deref()),
        (Some("bytes=10-"), None)
    );
}
