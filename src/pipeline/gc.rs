//! `l2tww gc`: the cache entries that no pipeline of the project reaches any more (every
//! `pipelines/**/*.yaml` is planned, in both precisions a run may ask for; a file that does not
//! plan stops the collection, so that its entries are never removed by mistake; a folder with
//! no pipeline would keep nothing, which the command refuses unless told so).

use super::plan::{Plan, PlanOptions};
use super::spec::PipelineSpec;
use crate::cache::{EntrySummary, FileHashes, Key, Store};
use crate::device::Precision;
use crate::error::Result;
use crate::fsx;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every pipeline file under `dir`, sorted.
pub fn pipeline_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for p in fsx::read_dir_sorted(dir)? {
        if p.is_dir() {
            out.extend(pipeline_files(&p)?);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
    Ok(out)
}

/// The keys the pipelines `files` reach, whichever `--precision` runs them.
pub fn reachable(files: &[PathBuf], hashes: &FileHashes) -> Result<BTreeSet<Key>> {
    let mut keys = BTreeSet::new();
    for f in files {
        for precision in [Precision::F32, Precision::F64] {
            let plan = Plan::new(PipelineSpec::read(f)?, hashes, PlanOptions { precision })?;
            keys.extend(plan.instances.iter().map(|i| i.key));
        }
    }
    Ok(keys)
}

/// The entries of `store` not in `keep`.
pub fn unreachable(store: &Store, keep: &BTreeSet<Key>) -> Result<Vec<EntrySummary>> {
    Ok(store
        .entries()?
        .into_iter()
        .filter(|e| !keep.contains(&e.key))
        .collect())
}
