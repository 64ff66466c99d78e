//! The last lines of a job's log, read from the end so that a large log costs little.
use crate::error::{Error, Result};
use crate::fsx;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The last `n` lines of the file at `path` (lossy UTF-8, without a final newline). Reads
/// backwards in growing blocks, so only about the tail is read. Errors name the path (a job
/// that never started has no log).
pub fn log_tail(path: &Path, n: usize) -> Result<String> {
    let mut file = fsx::open(path)?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut block = 4096u64;
    loop {
        let start = len.saturating_sub(block);
        file.seek(SeekFrom::Start(start))
            .map_err(|e| Error::io(path, e))?;
        let mut bytes = Vec::with_capacity((len - start) as usize);
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
        let text = String::from_utf8_lossy(&bytes);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        let lines: Vec<&str> = text.split('\n').collect();
        // With the file's start not read, the first line may be cut: it only counts when
        // more than `n` lines were read.
        if start == 0 || lines.len() > n {
            let from = lines.len().saturating_sub(n);
            return Ok(lines[from..].join("\n"));
        }
        block *= 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_last_lines_even_of_a_long_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.log");
        let text: String = (0..5000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, text).unwrap();
        assert_eq!(
            log_tail(&path, 3).unwrap(),
            "line 4997\nline 4998\nline 4999"
        );
        assert_eq!(log_tail(&path, 0).unwrap(), "");
    }

    #[test]
    fn a_short_log_is_returned_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.log");
        std::fs::write(&path, "only\nlines\n").unwrap();
        assert_eq!(log_tail(&path, 10).unwrap(), "only\nlines");
    }

    #[test]
    fn a_missing_log_is_an_error_naming_it() {
        let err = log_tail(Path::new("/nonexistent/job.log"), 5).unwrap_err();
        assert!(
            err.to_string().starts_with("/nonexistent/job.log:"),
            "{err}"
        );
    }
}
