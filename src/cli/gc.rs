//! `l2tww gc [--pipelines DIR]`: removes the cache entries no pipeline in DIR reaches (listing
//! them first). A folder with no pipeline file would keep nothing: gc refuses that unless told
//! `--keep-nothing`, so a mistyped folder never empties the cache.

use crate::cache::{FileHashes, Store};
use crate::pipeline::{self, gc};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `l2tww gc`.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// The folder of pipeline files whose entries are kept.
    #[arg(long, default_value = "pipelines")]
    pub pipelines: PathBuf,
    /// The cache folder (default: cache/ beside the pipelines folder, or $L2TWW_CACHE).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Only show what would be removed.
    #[arg(long)]
    pub dry_run: bool,
    /// Remove every entry when the folder holds no pipeline.
    #[arg(long)]
    pub keep_nothing: bool,
}

/// `l2tww gc`.
pub fn run(a: GcArgs) -> anyhow::Result<ExitCode> {
    let project = std::fs::canonicalize(&a.pipelines)
        .ok()
        .and_then(|p| p.parent().map(|q| q.to_path_buf()))
        .unwrap_or_else(|| PathBuf::from("."));
    let root = a
        .cache
        .clone()
        .unwrap_or_else(|| pipeline::cache_root(&project));
    let store = Store::open(&root)?;
    let files = gc::pipeline_files(&a.pipelines)?;
    let nothing_kept = files.is_empty();
    if nothing_kept && !a.keep_nothing && !a.dry_run {
        anyhow::bail!(
            "{}: no pipeline file (*.yaml) there, so gc would remove every entry of {}; \
             name the folder of your pipelines with --pipelines, or pass --keep-nothing to \
             empty the cache",
            a.pipelines.display(),
            root.display()
        );
    }
    let _lock = (!a.dry_run).then(|| store.lock("l2tww gc")).transpose()?;
    let hashes = FileHashes::open(&root);
    let keep = gc::reachable(&files, &hashes)?;
    let doomed = gc::unreachable(&store, &keep)?;
    let bytes: u64 = doomed.iter().map(|e| e.bytes).sum();
    for e in &doomed {
        let field = |k: &str| {
            e.meta
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("?")
                .to_string()
        };
        println!(
            "{} {}  {}: {}  {:.1} MB",
            if a.dry_run { "would remove" } else { "remove" },
            e.key.short(),
            field("pipeline"),
            field("instance"),
            e.bytes as f64 / 1e6
        );
    }
    if !a.dry_run {
        for e in &doomed {
            store.remove(&e.key)?;
        }
    }
    println!(
        "{} entr{} ({:.1} MB) {}; {} kept",
        doomed.len(),
        if doomed.len() == 1 { "y" } else { "ies" },
        bytes as f64 / 1e6,
        if a.dry_run {
            "would be removed"
        } else {
            "removed"
        },
        keep.len()
    );
    if nothing_kept && a.dry_run && !a.keep_nothing {
        println!(
            "note: {} holds no pipeline file; without --dry-run gc refuses unless --keep-nothing",
            a.pipelines.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
