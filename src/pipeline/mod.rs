//! The declarative pipeline: a YAML file of named stages ([`spec`], defaults merged by
//! [`merge`], [`settings`]) becomes a typed [`plan::Plan`] of instances (sweeps expanded, every
//! parameter typed and checked by its kind) with content-addressed keys; [`freshness`] says
//! what is stale and why; [`exec`] runs what is stale — one scheduling core, a local and a Slurm
//! executor; [`stages`] are the kinds, each a [`stages::StageKind`] over the library's own
//! configuration types ([`kinds`] names them and their parameter tables); [`gc`], [`dag`] and
//! [`results`] serve the CLI. A file may take stages from others ([`include`]); a run may
//! override parameters ([`overrides`]).

pub mod dag;
pub mod exec;
pub mod freshness;
pub mod gc;
pub mod include;
pub mod kinds;
pub mod labels;
pub mod merge;
pub mod names;
pub mod overrides;
pub mod plan;
pub mod results;
pub mod runs;
pub mod settings;
pub mod spec;
pub mod stages;

use crate::cache::{FileHashes, Store};
use crate::error::Result;
use overrides::Override;
use plan::{Plan, PlanOptions};
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
    /// Whether there was no cache to look at ([`load_existing`]): every instance is stale.
    pub cache_missing: bool,
}

impl Loaded {
    /// What to say when there was no cache to look at, naming where it was looked for.
    pub fn no_cache_note(&self) -> Option<String> {
        self.cache_missing.then(|| {
            format!(
                "note: there is no cache at {}: nothing has run with it, so every instance is \
                 stale (`l2tww run {}` makes it; `--cache DIR` or $L2TWW_CACHE name another)",
                self.store.root().display(),
                self.plan.spec.path.display()
            )
        })
    }
}

/// Reads `path` (with the files it includes and the `--set` overrides) and plans it against
/// its cache (`cache` overrides the default location), which is created when it is not there.
pub fn load(
    path: &Path,
    overrides: &[Override],
    cache: Option<&Path>,
    options: PlanOptions,
) -> Result<Loaded> {
    open(path, overrides, cache, options, true)
}

/// Reads and plans `path` as [`load`] does, for the commands that only look (`status`, `runs`,
/// `show`, `cancel`): nothing is created — without a cache there the plan is looked up in an
/// empty view, and [`Loaded::no_cache_note`] says so.
pub fn load_existing(
    path: &Path,
    overrides: &[Override],
    cache: Option<&Path>,
    options: PlanOptions,
) -> Result<Loaded> {
    open(path, overrides, cache, options, false)
}

fn open(
    path: &Path,
    overrides: &[Override],
    cache: Option<&Path>,
    options: PlanOptions,
    create: bool,
) -> Result<Loaded> {
    let spec = PipelineSpec::read_with(path, overrides)?;
    let project = project_root(path);
    let root = cache
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cache_root(&project));
    if !create && !Store::exists(&root) {
        // Nothing to look at: plan against an empty view, create nothing, and say so.
        let hashes = FileHashes::in_memory();
        let plan = Plan::new(spec, &hashes, options)?;
        return Ok(Loaded {
            plan,
            store: Store::view(&root),
            project,
            hashes,
            cache_missing: true,
        });
    }
    // Jobs may run in another folder (Slurm): the cache is named absolutely.
    crate::fsx::create_dir_all(&root)?;
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    let store = Store::open(&root)?;
    let hashes = FileHashes::open(&root);
    let plan = Plan::new(spec, &hashes, options)?;
    hashes.save();
    Ok(Loaded {
        plan,
        store,
        project,
        hashes,
        cache_missing: false,
    })
}
