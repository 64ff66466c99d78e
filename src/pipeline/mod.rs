//! The declarative pipeline: a YAML file of named stages ([`spec`]) becomes a [`plan::Plan`] of
//! instances (sweeps expanded) with content-addressed keys; [`freshness`] says what is stale and
//! why; [`local`] runs what is stale as child processes ([`exec`]); [`stages`] adapts each kind to
//! the library; [`gc`] and [`dag`] serve the CLI.

pub mod dag;
pub mod exec;
pub mod files;
pub mod freshness;
pub mod gc;
pub mod job;
pub mod kinds;
pub mod labels;
pub mod local;
pub mod plan;
pub mod results;
pub mod slurm_exec;
pub mod spec;
pub mod stages;
pub mod yaml;

use crate::cache::Store;
use crate::error::Result;
use files::FileHashes;
use plan::Plan;
use spec::PipelineSpec;
use std::path::{Path, PathBuf};

/// The project folder of a pipeline file: the parent of the nearest `pipelines` folder above
/// it, else the current folder.
pub fn project_root(pipeline: &Path) -> PathBuf {
    let abs = std::fs::canonicalize(pipeline).unwrap_or_else(|_| pipeline.to_path_buf());
    let mut dir = abs.parent();
    while let Some(d) = dir {
        if d.file_name().is_some_and(|n| n == "pipelines") {
            return d.parent().map(Path::to_path_buf).unwrap_or_default();
        }
        dir = d.parent();
    }
    std::env::current_dir().unwrap_or_default()
}

/// The folder of a pipeline file as an absolute path: relative paths in the file are taken from
/// it, also by jobs that run elsewhere (a batch job starts in the cache folder).
pub fn absolute_base(pipeline: &Path) -> PathBuf {
    let dir = crate::fsx::parent_dir(pipeline);
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

/// The cache folder: `$L2TWW_CACHE`, else `cache/` in the project folder.
pub fn cache_root(project: &Path) -> PathBuf {
    std::env::var_os("L2TWW_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| project.join("cache"))
}

/// A pipeline read, planned, and its cache opened.
pub struct Loaded {
    /// The plan.
    pub plan: Plan,
    /// The cache.
    pub store: Store,
    /// The project folder (where `results/` goes).
    pub project: PathBuf,
    /// The file-hash memo.
    pub hashes: FileHashes,
}

/// Reads and plans `path` against its cache (`cache` overrides the default location).
pub fn load(path: &Path, cache: Option<&Path>) -> Result<Loaded> {
    let spec = PipelineSpec::read(path)?;
    let project = project_root(path);
    let root = cache
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cache_root(&project));
    // Jobs may run in another folder (Slurm): the cache is named absolutely.
    crate::fsx::create_dir_all(&root)?;
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    let store = Store::open(&root)?;
    let hashes = FileHashes::open(&root);
    let plan = Plan::new(spec, &hashes)?;
    hashes.save();
    Ok(Loaded {
        plan,
        store,
        project,
        hashes,
    })
}
