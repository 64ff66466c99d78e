//! The crate's error type. Every variant carries the context a user needs to act: the file,
//! the tensor names, the case. Panics are for bugs only; the CLI prints the chain and exits 2.
use std::path::PathBuf;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in l2tww's library code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O error on a named path.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file whose content is not what it should be.
    #[error("{path}: {msg}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong and, where possible, what to do.
        msg: String,
    },
    /// A binary file whose bytes are wrong at a known position (for compressed files, the
    /// offset in the decompressed stream).
    #[error("{path}: at byte {offset}: {msg}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Byte offset of the problem.
        offset: u64,
        /// What is wrong and what to do.
        msg: String,
    },
    /// A text file with a bad line (1-based).
    #[error("{path}:{line}: {msg}")]
    Line {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// What is wrong and what to do.
        msg: String,
    },
    /// A download that failed or did not verify.
    #[error("download of {url} failed: {msg}")]
    Download {
        /// The URL.
        url: String,
        /// What went wrong and what to do.
        msg: String,
    },
    /// A weight file that does not fit the model it is loaded into.
    #[error("{path}: weights do not match the model `{model}`:\n{detail}")]
    WeightMismatch {
        /// The weight file.
        path: PathBuf,
        /// The model's name.
        model: String,
        /// Missing, unexpected and mis-shaped tensors, one per line.
        detail: String,
    },
    /// Invalid user input that is not tied to a file (a flag, a name).
    #[error("{0}")]
    Invalid(String),
    /// A problem at a place in a text file (pipeline YAML): 1-based line and column.
    #[error("{path}:{line}:{col}: {msg}")]
    At {
        /// The file.
        path: PathBuf,
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        col: usize,
        /// What is wrong and what to do.
        msg: String,
    },
    /// A pipeline stage that failed.
    #[error("stage {stage} failed: {msg} (log: {log})")]
    StageFailed {
        /// The stage instance.
        stage: String,
        /// Why.
        msg: String,
        /// Its log file.
        log: PathBuf,
    },
    /// A loss term that stopped being finite during training.
    #[error("the loss term `{term}` is not finite ({value}) at epoch {epoch}, iteration {iteration}; lower the learning rate or β, or check the inputs")]
    NonFinite {
        /// The epoch, counted from 1.
        epoch: usize,
        /// The iteration within the epoch, counted from 1.
        iteration: usize,
        /// Which term (`ce`, `wfm`, …).
        term: String,
        /// Its value.
        value: f64,
    },
    /// An external program (sbatch, squeue, …) that ran and failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        /// The command line, program and arguments.
        command: String,
        /// How it ended: `exit code 1`, `killed by signal 9`, or what was wrong with its output.
        status: String,
        /// Its standard error, trimmed (empty when it printed nothing).
        stderr: String,
    },
    /// An error raised by libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// The causes worth printing after the first message of an error chain (its messages,
/// outermost first): a cause whose text a message above it already contains — the I/O error
/// after `path: error` — is left out, so no reason is printed twice.
pub fn new_causes(chain: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for (i, cause) in chain.iter().enumerate().skip(1) {
        if !chain[..i]
            .iter()
            .any(|above| above.contains(cause.as_str()))
        {
            out.push(cause);
        }
    }
    out
}

impl Error {
    /// A [`Error::BadFile`] for `path` with message `msg`.
    pub fn bad_file(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::BadFile {
            path: path.into(),
            msg: msg.into(),
        }
    }

    /// An [`Error::Format`] for `path` at byte `offset`.
    pub fn format(path: impl Into<PathBuf>, offset: u64, msg: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            offset,
            msg: msg.into(),
        }
    }

    /// An [`Error::Line`] for line `line` (1-based) of `path`.
    pub fn line(path: impl Into<PathBuf>, line: usize, msg: impl Into<String>) -> Self {
        Error::Line {
            path: path.into(),
            line,
            msg: msg.into(),
        }
    }

    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_message_above_is_not_repeated() {
        let e = Error::io(
            "/x/run.yaml",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        let e = anyhow::Error::new(e);
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        assert_eq!(chain.len(), 2, "{chain:?}");
        assert!(new_causes(&chain).is_empty(), "{chain:?}");
        let chain = vec!["reading the cache".to_string(), "disk full".to_string()];
        assert_eq!(new_causes(&chain), ["disk full"]);
    }
}
