//! Safe extraction of tar, tar.gz and zip archives: entries with absolute paths, `..`, links or
//! device/fifo types are rejected (naming the archive, the entry and its byte offset), and the
//! archive is unpacked into a temporary folder that is renamed into place only when complete.
use crate::error::{Error, Result};
use crate::fsx;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// True for file names this module can extract (`.tar`, `.tar.gz`, `.tgz`, `.zip`).
pub fn is_archive(path: &Path) -> bool {
    let n = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    n.ends_with(".tar") || n.ends_with(".tar.gz") || n.ends_with(".tgz") || n.ends_with(".zip")
}

/// A relative path that stays inside the destination, or `None`.
fn safe_relative(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Extracts `archive` into the folder `dest`, which must not exist yet; on any error nothing is
/// left at `dest`.
pub fn extract(archive: &Path, dest: &Path) -> Result<()> {
    let parent = fsx::parent_dir(dest);
    fsx::create_dir_all(&parent)?;
    let tmp = tempfile::Builder::new()
        .prefix(".extract-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".zip") {
        extract_zip(archive, tmp.path())?;
    } else {
        let file = fsx::open(archive)?;
        let reader: Box<dyn Read> = if name.ends_with(".tar") {
            Box::new(file)
        } else {
            Box::new(flate2::read::GzDecoder::new(file))
        };
        extract_tar(archive, reader, tmp.path())?;
    }
    let done = tmp.keep();
    fsx::as_umask_allows(&done)?;
    std::fs::rename(&done, dest).map_err(|e| {
        let _ = std::fs::remove_dir_all(&done);
        Error::io(dest, e)
    })
}

fn extract_tar(archive: &Path, reader: Box<dyn Read>, dest: &Path) -> Result<()> {
    let mut ar = tar::Archive::new(reader);
    let corrupt = |offset: u64, e: &dyn std::fmt::Display| {
        Error::format(
            archive,
            offset,
            format!("corrupt or truncated archive ({e}); download it again"),
        )
    };
    for entry in ar.entries().map_err(|e| corrupt(0, &e))? {
        let mut entry = entry.map_err(|e| corrupt(0, &e))?;
        let offset = entry.raw_header_position();
        let path = entry.path().map_err(|e| corrupt(offset, &e))?.into_owned();
        let kind = entry.header().entry_type();
        let hostile = |why: &str| {
            Error::format(
                archive,
                offset,
                format!(
                    "refusing entry `{}`: {why}; the archive is not safe to extract",
                    path.display()
                ),
            )
        };
        let rel = safe_relative(&path).ok_or_else(|| hostile("absolute path or `..`"))?;
        let out = dest.join(&rel);
        match kind {
            tar::EntryType::Directory => fsx::create_dir_all(&out)?,
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                fsx::create_dir_all(&fsx::parent_dir(&out))?;
                let mut f = std::fs::File::create(&out).map_err(|e| Error::io(&out, e))?;
                std::io::copy(&mut entry, &mut f).map_err(|e| corrupt(offset, &e))?;
            }
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {}
            tar::EntryType::Symlink | tar::EntryType::Link => {
                return Err(hostile("links are not allowed"))
            }
            other => {
                return Err(hostile(&format!(
                    "entry type {other:?} (devices, fifos) is not allowed"
                )))
            }
        }
    }
    Ok(())
}

fn extract_zip(archive: &Path, dest: &Path) -> Result<()> {
    let file = fsx::open(archive)?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| {
        Error::format(
            archive,
            0,
            format!("not a readable zip archive ({e}); download it again"),
        )
    })?;
    for i in 0..zip.len() {
        let mut f = zip
            .by_index(i)
            .map_err(|e| Error::format(archive, 0, format!("corrupt zip entry {i} ({e})")))?;
        let offset = f.header_start();
        let name = f.name().to_string();
        let hostile = |why: &str| {
            Error::format(
                archive,
                offset,
                format!("refusing entry `{name}`: {why}; the archive is not safe to extract"),
            )
        };
        let rel =
            safe_relative(Path::new(&name)).ok_or_else(|| hostile("absolute path or `..`"))?;
        if f.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000) {
            return Err(hostile("links are not allowed"));
        }
        let out = dest.join(rel);
        if f.is_dir() {
            fsx::create_dir_all(&out)?;
        } else {
            fsx::create_dir_all(&fsx::parent_dir(&out))?;
            let mut w = std::fs::File::create(&out).map_err(|e| Error::io(&out, e))?;
            std::io::copy(&mut f, &mut w).map_err(|e| {
                Error::format(archive, offset, format!("corrupt zip entry `{name}` ({e})"))
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_safe() {
        assert_eq!(
            safe_relative(Path::new("a/./b")),
            Some(PathBuf::from("a/b"))
        );
        assert_eq!(safe_relative(Path::new("/etc/passwd")), None);
        assert_eq!(safe_relative(Path::new("a/../../b")), None);
        assert!(is_archive(Path::new("x/cifar-10-binary.tar.gz")));
        assert!(!is_archive(Path::new("train-images-idx3-ubyte.gz")));
    }
}
