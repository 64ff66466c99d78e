//! The built-in stage kinds as adapters over the library: each checks its parameters (typed,
//! with the path of a bad value), names the external files it reads, and runs a [`Job`] into an
//! output folder, returning the metrics recorded in the cache manifest.

mod dataset;
mod import;
mod report;
mod source_stats;
mod subset;
mod train;

use super::job::Job;
use super::kinds::Kind;
use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Progress of a running stage: done, total, a short message.
pub type ProgressFn<'a> = &'a mut dyn FnMut(u64, u64, &str);

/// What a running stage is given.
pub struct Ctx<'a> {
    /// The job.
    pub job: &'a Job,
    /// The output folder (committed to the cache afterwards).
    pub out: &'a Path,
    /// A work folder that survives crashes (checkpoints), cleared after the commit.
    pub work: &'a Path,
    /// Progress reports.
    pub progress: ProgressFn<'a>,
}

/// The external files and extra key parts of an instance.
#[derive(Debug, Default)]
pub struct External {
    /// Files or folders read (name, path).
    pub files: Vec<(String, PathBuf)>,
    /// Further key parts (e.g. the checksums of files to download).
    pub params: Vec<(String, Value)>,
}

/// Deserialises an instance's parameters, reporting the path of a bad value.
pub fn typed<T: DeserializeOwned>(params: &Map<String, Value>) -> Result<T, (Vec<String>, String)> {
    let v = Value::Object(params.clone());
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path: Vec<String> = e
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                _ => None,
            })
            .collect();
        let shown = if path.is_empty() {
            String::new()
        } else {
            format!("`{}`: ", path.join("."))
        };
        (path, format!("{shown}{}", e.inner()))
    })
}

/// Checks an instance's parameters for its kind.
pub fn check(kind: Kind, params: &Map<String, Value>) -> Result<(), (Vec<String>, String)> {
    match kind {
        Kind::Dataset => dataset::check(params),
        Kind::Subset => typed::<subset::SubsetParams>(params).map(|_| ()),
        Kind::Train => train::check(params),
        Kind::Import => typed::<import::ImportParams>(params).map(|_| ()),
        Kind::SourceStats => source_stats::check(params),
        Kind::Report => report::check(params),
    }
}

/// The external files an instance reads, relative paths taken from `base`.
pub fn external(kind: Kind, params: &Map<String, Value>, base: &Path) -> External {
    match kind {
        Kind::Dataset => dataset::external(params, base),
        Kind::Import => import::external(params, base),
        Kind::Train => train::external(params),
        _ => External::default(),
    }
}

/// Runs a job.
pub fn run(kind: Kind, ctx: &mut Ctx) -> Result<Value> {
    match kind {
        Kind::Dataset => dataset::run(ctx),
        Kind::Subset => subset::run(ctx),
        Kind::Train => train::run(ctx),
        Kind::Import => import::run(ctx),
        Kind::SourceStats => source_stats::run(ctx),
        Kind::Report => report::run(ctx),
    }
}

/// A path from a parameter: `~/` is the home folder, relative paths are taken from `base`.
pub fn resolve_path(p: &str, base: &Path) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    let path = PathBuf::from(p);
    if path.is_absolute() {
        path
    } else {
        base.join(path)
    }
}

fn params_of<T: DeserializeOwned>(job: &Job) -> Result<T> {
    typed(&job.params).map_err(|(_, msg)| Error::Invalid(format!("{}: {msg}", job.instance)))
}
