//! Getting dataset files: resumable HTTP(S) downloads with a progress bar, verified against the
//! published checksum (md5) or a recorded blake3; what is present and verified is never fetched
//! again. The URL is a parameter, so tests point it at a server on 127.0.0.1.
use crate::data::extract::{extract, is_archive};
use crate::error::{Error, Result};
use crate::fsx;
use md5::Digest;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The checksum a downloaded file must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// A published md5, lowercase hex.
    Md5(String),
    /// A blake3, lowercase hex.
    Blake3(String),
    /// None is published (or known): the blake3 is recorded beside the file after the first
    /// download (`<file>.blake3`) and a warning is printed.
    Unknown,
}

impl Checksum {
    fn compute(&self, path: &Path) -> Result<String> {
        match self {
            Checksum::Md5(_) => {
                let mut f = fsx::open(path)?;
                let mut h = md5::Md5::new();
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
                    if n == 0 {
                        break;
                    }
                    h.update(&buf[..n]);
                }
                Ok(format!("{:x}", h.finalize()))
            }
            _ => fsx::blake3_file(path),
        }
    }
}

/// One file to fetch.
#[derive(Debug, Clone)]
pub struct RemoteFile {
    /// Where it is published.
    pub url: String,
    /// The local file name.
    pub file_name: String,
    /// Its published checksum.
    pub checksum: Checksum,
}

/// What [`download`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetched {
    /// The file was present and verified; nothing was fetched.
    AlreadyPresent,
    /// The file was downloaded (or the rest of it, after an interrupted transfer).
    Downloaded,
}

/// The blake3 recorded for a file whose checksum is unknown.
fn recorded_path(dest: &Path) -> PathBuf {
    dest.with_file_name(format!(
        "{}.blake3",
        dest.file_name().unwrap_or_default().to_string_lossy()
    ))
}

/// Whether `dest` exists and matches `checksum` (or its recorded blake3).
pub fn verified(dest: &Path, checksum: &Checksum) -> Result<bool> {
    if !dest.is_file() {
        return Ok(false);
    }
    let want = match checksum {
        Checksum::Md5(h) | Checksum::Blake3(h) => h.clone(),
        Checksum::Unknown => match std::fs::read_to_string(recorded_path(dest)) {
            Ok(h) => h.trim().to_string(),
            Err(_) => return Ok(false),
        },
    };
    Ok(checksum.compute(dest)? == want)
}

/// Downloads `file` into folder `dir`, resuming a previous partial transfer (`<name>.part`) with
/// an HTTP Range request. A checksum mismatch removes the partial file and is an error; a
/// transfer that ends early keeps it, so that running again resumes.
pub fn download(file: &RemoteFile, dir: &Path, progress: bool) -> Result<Fetched> {
    let dest = dir.join(&file.file_name);
    if verified(&dest, &file.checksum)? {
        return Ok(Fetched::AlreadyPresent);
    }
    fsx::create_dir_all(dir)?;
    let part = dir.join(format!("{}.part", file.file_name));
    let url = &file.url;
    let fail = |msg: String| Error::Download {
        url: url.clone(),
        msg,
    };
    let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(60))
        .build();
    let mut req = agent.get(url);
    if have > 0 {
        req = req.set("Range", &format!("bytes={have}-"));
    }
    let resp = match req.call() {
        // The partial file is already whole (or longer than the file): start again from zero.
        Err(ureq::Error::Status(416, _)) if have > 0 => {
            std::fs::remove_file(&part).map_err(|e| Error::io(&part, e))?;
            return download(file, dir, progress);
        }
        r => r.map_err(|e| {
            fail(format!(
                "{e}; check the URL and your connection, then run again"
            ))
        })?,
    };
    let resumed = resp.status() == 206;
    let start = if resumed { have } else { 0 };
    let length: Option<u64> = resp.header("Content-Length").and_then(|v| v.parse().ok());
    let total = length.map(|l| l + start);
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed)
        .truncate(!resumed)
        .open(&part)
        .map_err(|e| Error::io(&part, e))?;
    let bar = if progress {
        indicatif::ProgressBar::new(total.unwrap_or(0))
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(file.file_name.clone());
    bar.set_position(start);
    let mut reader = resp.into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut got = start;
    let read_err = loop {
        match reader.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => {
                out.write_all(&buf[..n]).map_err(|e| Error::io(&part, e))?;
                got += n as u64;
                bar.set_position(got);
            }
            Err(e) => break Some(e),
        }
    };
    out.flush().map_err(|e| Error::io(&part, e))?;
    drop(out);
    bar.finish_and_clear();
    if let Some(total) = total.filter(|&t| got < t) {
        return Err(fail(format!("transfer ended at byte {got} of {total}; the partial file {} is kept, run again to resume", part.display())));
    }
    if let Some(e) = read_err {
        return Err(fail(format!(
            "transfer broke at byte {got} ({e}); the partial file {} is kept, run again to resume",
            part.display()
        )));
    }
    let actual = file.checksum.compute(&part)?;
    match &file.checksum {
        Checksum::Md5(want) | Checksum::Blake3(want) if *want != actual => {
            let _ = std::fs::remove_file(&part);
            return Err(fail(format!("checksum mismatch: expected {want}, got {actual}; the download was removed. Check the URL (a mirror may serve another version) and run again")));
        }
        Checksum::Unknown => {
            eprintln!(
                "warning: no published checksum for {url}; recorded its blake3 {actual} in {}",
                recorded_path(&dest).display()
            );
            fsx::write_atomic(&recorded_path(&dest), actual.as_bytes())?;
        }
        _ => {}
    }
    std::fs::rename(&part, &dest).map_err(|e| Error::io(&dest, e))?;
    Ok(Fetched::Downloaded)
}

/// Downloads `files` into `cache` and extracts the archives among them into `cache/data`
/// (once: a `<archive>.extracted` marker records it); other files are downloaded straight into
/// `cache/data`. Returns `cache/data`, the folder a reader reads.
pub fn fetch_all(files: &[RemoteFile], cache: &Path, progress: bool) -> Result<PathBuf> {
    let data = cache.join("data");
    fsx::create_dir_all(&data)?;
    for f in files {
        let archive = is_archive(Path::new(&f.file_name));
        let dir = if archive { cache } else { &data };
        download(f, dir, progress)?;
        let marker = cache.join(format!("{}.extracted", f.file_name));
        if archive && !marker.exists() {
            let tmp = tempfile::tempdir_in(cache).map_err(|e| Error::io(cache, e))?;
            let dest = tmp.path().join("x");
            extract(&dir.join(&f.file_name), &dest)?;
            for entry in fsx::read_dir_sorted(&dest)? {
                let target = data.join(entry.file_name().unwrap_or_default());
                if target.is_dir() {
                    let _ = std::fs::remove_dir_all(&target);
                }
                std::fs::rename(&entry, &target).map_err(|e| Error::io(&target, e))?;
            }
            fsx::write_atomic(&marker, b"")?;
        }
    }
    Ok(data)
}
