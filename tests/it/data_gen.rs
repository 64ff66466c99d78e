//! Test data in the real distribution formats, generated tiny: CIFAR/STL binaries, IDX files,
//! image-folder datasets with real PNG/JPEG files, tar.gz archives (hostile ones too), and a
//! real HTTP server on 127.0.0.1 with Range support and a truncating mode.
#![allow(dead_code)]

use flate2::write::GzEncoder;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A deterministic pixel value.
pub fn px(split: u8, i: usize, k: usize) -> u8 {
    ((i * 31 + k * 7 + split as usize * 13) % 256) as u8
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// CIFAR records: `label_bytes` labels then 3072 CHW bytes; label of record i is i % classes.
pub fn cifar_records(
    split: u8,
    n: usize,
    label_bytes: usize,
    classes: usize,
    first: usize,
) -> Vec<u8> {
    let mut out = Vec::new();
    for i in first..first + n {
        for _ in 0..label_bytes {
            out.push((i % classes) as u8);
        }
        out.extend((0..3072).map(|k| px(split, i, k)));
    }
    out
}

/// A `cifar-10-batches-bin` folder under `root` with `per_batch` records per training batch.
pub fn cifar10(root: &Path, per_batch: usize, test: usize) -> PathBuf {
    let d = root.join("cifar-10-batches-bin");
    let names = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ];
    write(
        &d.join("batches.meta.txt"),
        (names.join("\n") + "\n\n").as_bytes(),
    );
    for b in 0..5 {
        write(
            &d.join(format!("data_batch_{}.bin", b + 1)),
            &cifar_records(0, per_batch, 1, 10, b * per_batch),
        );
    }
    write(&d.join("test_batch.bin"), &cifar_records(1, test, 1, 10, 0));
    d
}

/// A `cifar-100-binary` folder under `root`.
pub fn cifar100(root: &Path, train: usize, test: usize) -> PathBuf {
    let d = root.join("cifar-100-binary");
    let names: Vec<String> = (0..100).map(|i| format!("class{i}")).collect();
    write(&d.join("fine_label_names.txt"), names.join("\n").as_bytes());
    write(&d.join("coarse_label_names.txt"), b"c\n");
    write(&d.join("train.bin"), &cifar_records(0, train, 2, 100, 0));
    write(&d.join("test.bin"), &cifar_records(1, test, 2, 100, 0));
    d
}

/// STL-10 X bytes (column-major per channel) for `n` images; the value at (c, x, y) of image i
/// is `px(split, i, (c*96 + x)*96 + y)`.
pub fn stl10(root: &Path, train: usize, test: usize) -> PathBuf {
    let d = root.join("stl10_binary");
    let names = [
        "airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck",
    ];
    write(&d.join("class_names.txt"), names.join("\n").as_bytes());
    for (split, name, n) in [(0u8, "train", train), (1, "test", test)] {
        let x: Vec<u8> = (0..n)
            .flat_map(|i| (0..27648).map(move |k| px(split, i, k)))
            .collect();
        let y: Vec<u8> = (0..n).map(|i| (i % 10) as u8 + 1).collect();
        write(&d.join(format!("{name}_X.bin")), &x);
        write(&d.join(format!("{name}_y.bin")), &y);
    }
    d
}

/// An IDX file with `dims` and `data` (unsigned bytes).
pub fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// Gzips bytes.
pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The four MNIST-style IDX files (28×28) in `dir`, gzipped or raw.
pub fn idx_dir(dir: &Path, train: usize, test: usize, gzip: bool) {
    for (split, prefix, n) in [(0u8, "train", train), (1, "t10k", test)] {
        let images: Vec<u8> = (0..n)
            .flat_map(|i| (0..784).map(move |k| px(split, i, k)))
            .collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let files = [
            (
                format!("{prefix}-images-idx3-ubyte"),
                idx_bytes(&[n as u32, 28, 28], &images),
            ),
            (
                format!("{prefix}-labels-idx1-ubyte"),
                idx_bytes(&[n as u32], &labels),
            ),
        ];
        for (name, bytes) in files {
            if gzip {
                write(&dir.join(name + ".gz"), &gz(&bytes));
            } else {
                write(&dir.join(name), &bytes);
            }
        }
    }
}

/// A PNG of `w`×`h` RGB pixels whose values derive from `seed`.
pub fn png(w: u32, h: u32, seed: usize) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            px(0, seed, x as usize),
            px(1, seed, y as usize),
            (seed * 40 % 256) as u8,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A JPEG of `w`×`h`.
pub fn jpeg(w: u32, h: u32, seed: usize) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 4) as u8, (seed * 40 % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// Writes `files` (relative path, bytes) under `root`.
pub fn files(root: &Path, files: &[(String, Vec<u8>)]) {
    for (p, b) in files {
        write(&root.join(p), b);
    }
}

/// A tar.gz of plain files.
pub fn targz(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (p, bytes) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, p, &bytes[..]).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// A tar.gz with one file, then an entry whose raw name is `name` and type `kind` (the tar
/// crate's builder refuses such names, so the header is written by hand).
pub fn hostile_targz(name: &str, kind: tar::EntryType) -> Vec<u8> {
    let mut b = tar::Builder::new(GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, "ok.txt", &b"ok"[..]).unwrap();
    let mut h = tar::Header::new_old();
    let raw = &mut h.as_old_mut().name;
    raw[..name.len()].copy_from_slice(name.as_bytes());
    h.set_mode(0o644);
    h.set_entry_type(kind);
    if kind == tar::EntryType::Symlink {
        h.set_link_name("/etc/passwd").unwrap();
    }
    let body: &[u8] = if kind == tar::EntryType::Regular {
        b"evil"
    } else {
        b""
    };
    h.set_size(body.len() as u64);
    h.set_cksum();
    b.append(&h, body).unwrap();
    b.into_inner().unwrap().finish().unwrap()
}

/// How the test server answers for one path.
#[derive(Clone)]
pub enum Serve {
    /// The whole file (or the asked range).
    Full(Vec<u8>),
    /// Announces the full length but sends only the first `n` bytes, then closes.
    Truncated(Vec<u8>, usize),
}

/// The requests a [`Server`] received: (path, Range header if any).
pub type RequestLog = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A real HTTP/1.1 server on 127.0.0.1 (one thread, one request per connection).
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// What it serves, by path; tests may change it.
    pub files: Arc<Mutex<HashMap<String, Serve>>>,
    /// Every request: (path, Range header if any).
    pub log: RequestLog,
}

/// Starts a server.
pub fn serve(files: HashMap<String, Serve>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let files = Arc::new(Mutex::new(files));
    let log = Arc::new(Mutex::new(Vec::new()));
    let (f2, l2) = (files.clone(), log.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            reader.read_line(&mut first).unwrap_or(0);
            let path = first.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut range = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("range:") {
                    range = Some(v.trim().to_string());
                }
            }
            l2.lock().unwrap().push((path.clone(), range.clone()));
            let entry = f2.lock().unwrap().get(&path).cloned();
            let _ = match entry {
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
                Some(Serve::Full(body)) => {
                    let start: usize = range
                        .as_deref()
                        .and_then(|r| r.strip_prefix("bytes="))
                        .and_then(|r| r.trim_end_matches('-').parse().ok())
                        .unwrap_or(0);
                    let head = if start >= body.len() && range.is_some() {
                        stream.write_all(format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", body.len()).as_bytes()).ok();
                        continue;
                    } else if range.is_some() {
                        format!("HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {}-{}/{}\r\nConnection: close\r\n\r\n", body.len() - start, start, body.len() - 1, body.len())
                    } else {
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                    };
                    stream
                        .write_all(head.as_bytes())
                        .and_then(|_| stream.write_all(&body[start..]))
                }
                Some(Serve::Truncated(body, n)) => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    stream
                        .write_all(head.as_bytes())
                        .and_then(|_| stream.write_all(&body[..n]))
                }
            };
            let _ = stream.flush();
        }
    });
    Server { base, files, log }
}

/// A MAT v5 data element: tag, data, padding to 8 bytes (or the small format for ≤ 4 bytes
/// when `small`).
fn mat_el(kind: u32, data: &[u8], small: bool) -> Vec<u8> {
    if small && data.len() <= 4 {
        let mut out = (((data.len() as u32) << 16) | kind).to_le_bytes().to_vec();
        out.extend_from_slice(data);
        out.resize(8, 0);
        return out;
    }
    let mut out = kind.to_le_bytes().to_vec();
    out.extend((data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(8) * 8, 0);
    out
}

fn mat_matrix(class: u8, dims: &[i32], name: &str, body: &[u8]) -> Vec<u8> {
    let mut m = mat_el(6, &[class, 0, 0, 0, 0, 0, 0, 0], false);
    m.extend(mat_el(
        5,
        &dims
            .iter()
            .flat_map(|d| d.to_le_bytes())
            .collect::<Vec<_>>(),
        false,
    ));
    m.extend(mat_el(1, name.as_bytes(), true));
    m.extend_from_slice(body);
    mat_el(14, &m, false)
}

/// A little-endian MATLAB 5 MAT-file with a small double matrix `lab` and the cell array of
/// strings `var` (as Stanford Dogs' `train_list.mat`), its elements zlib-compressed or not.
pub fn mat_file(var: &str, strings: &[&str], compressed: bool) -> Vec<u8> {
    let mut out =
        format!("{:<116}", "MATLAB 5.0 MAT-file, written by the l2tww tests").into_bytes();
    out.extend([0u8; 8]);
    out.extend([0x00, 0x01, b'I', b'M']);
    let doubles: Vec<u8> = [1.0f64, 2.0].iter().flat_map(|d| d.to_le_bytes()).collect();
    let lab = mat_matrix(6, &[2, 1], "lab", &mat_el(9, &doubles, false));
    let cells: Vec<u8> = strings
        .iter()
        .flat_map(|s| {
            mat_matrix(
                4,
                &[1, s.len() as i32],
                "",
                &mat_el(
                    4,
                    &s.encode_utf16()
                        .flat_map(|u| u.to_le_bytes())
                        .collect::<Vec<_>>(),
                    false,
                ),
            )
        })
        .collect();
    let list = mat_matrix(1, &[strings.len() as i32, 1], var, &cells);
    for el in [lab, list] {
        if compressed {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            z.write_all(&el).unwrap();
            let data = z.finish().unwrap();
            out.extend(15u32.to_le_bytes());
            out.extend((data.len() as u32).to_le_bytes());
            out.extend(data);
        } else {
            out.extend(el);
        }
    }
    out
}
