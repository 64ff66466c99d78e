//! File-system helpers whose errors name the path: open, read, create folders, atomic writes
//! (temp file + rename in the same folder), and the blake3 of a file. Imports only `error`.
use crate::error::{Error, Result};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Opens `path` for reading.
pub fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::io(path, e))
}

/// Reads the whole of `path`.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Reads `path` as UTF-8 text.
pub fn read_to_string(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// Creates `path` and its parents.
pub fn create_dir_all(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))
}

/// The entries of folder `path`, sorted by file name.
pub fn read_dir_sorted(path: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
        out.push(entry.map_err(|e| Error::io(path, e))?.path());
    }
    out.sort();
    Ok(out)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, then a rename, so
/// a reader never sees a partial file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_dir(path);
    create_dir_all(&dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| Error::io(&dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    persist(tmp, path)
}

/// Renames a finished temporary file to `path`, with the permissions a plain `File::create`
/// would give it under the user's umask (temporary files are created owner-only, and a cache
/// shared by a group or a Slurm cluster's nodes must be readable as the user's umask says).
pub fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    as_umask_allows(tmp.path())?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Gives the file or folder at `path` the mode a new one would get under the user's umask
/// (0666 or 0777 less the umask): for folders and files made by `tempfile`, which are
/// owner-only, before they are renamed into place.
pub fn as_umask_allows(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        let full = if meta.is_dir() { 0o777 } else { 0o666 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(full & !umask()))
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// The process's umask, read once (from `/proc/self/status` where there is one, which leaves the
/// mask untouched; elsewhere by setting and restoring it, before any other thread writes files).
#[cfg(unix)]
pub fn umask() -> u32 {
    static MASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *MASK.get_or_init(|| {
        let from_proc = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Umask:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            });
        from_proc.unwrap_or_else(|| {
            // SAFETY: umask only swaps the process's file-mode mask; it is restored at once.
            unsafe {
                let old = libc::umask(0o022);
                libc::umask(old);
                old as u32
            }
        })
    })
}

/// The folder that holds `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The blake3 of the file at `path`, as lowercase hex.
pub fn blake3_file(path: &Path) -> Result<String> {
    let mut file = open(path)?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(read(&path).unwrap(), b"two");
        assert_eq!(read_dir_sorted(dir.path()).unwrap().len(), 1);
        assert_eq!(
            blake3_file(&path).unwrap(),
            blake3::hash(b"two").to_hex().to_string()
        );
    }

    #[test]
    fn errors_name_the_missing_path() {
        let err = read(Path::new("/nonexistent/l2tww/x.bin")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/l2tww/x.bin"));
    }
}
