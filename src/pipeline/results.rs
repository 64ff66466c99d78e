//! After a run: the report instances' tables and plots copied from the cache to
//! `results/<pipeline>/` in the project folder (`results/<pipeline>/<stage>/` for each report
//! when a pipeline has several, so that their files — `runs.csv`, the plots — do not overwrite
//! each other), and their Markdown printed.

use super::kinds::Kind;
use super::plan::Plan;
use crate::cache::{Lookup, Store, Verify};
use crate::error::{Error, Result};
use crate::fsx;
use std::path::{Path, PathBuf};

/// Copies every report instance's files to `project/results/<pipeline>/`; returns the Markdown
/// tables (instance name, text) and the folder.
pub fn publish(
    plan: &Plan,
    store: &Store,
    project: &Path,
) -> Result<(Vec<(String, String)>, PathBuf)> {
    let top = project.join("results").join(&plan.spec.name);
    let reports: Vec<_> = plan
        .instances
        .iter()
        .filter(|i| i.kind == Kind::Report)
        .collect();
    let mut tables = Vec::new();
    for inst in &reports {
        let Lookup::Hit(entry) = store.lookup(&inst.key, Verify::Fast)? else {
            continue;
        };
        let dir = if reports.len() > 1 {
            top.join(&plan.stage_of(inst).name)
        } else {
            top.clone()
        };
        fsx::create_dir_all(&dir)?;
        let out = entry.out_dir();
        for f in fsx::read_dir_sorted(&out)? {
            let Some(name) = f.file_name() else { continue };
            let dest = dir.join(name);
            let bytes = fsx::read(&f)?;
            fsx::write_atomic(&dest, &bytes)?;
            if f.extension().is_some_and(|e| e == "md") {
                tables.push((
                    inst.name.clone(),
                    String::from_utf8(bytes).map_err(|e| Error::bad_file(&f, e.to_string()))?,
                ));
            }
        }
    }
    Ok((tables, top))
}
