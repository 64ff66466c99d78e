//! `l2tww conformance DIR`: runs every reference case it knows that is present in DIR, in
//! float64, and reports the relative error of each. Sizes and hyper-parameters come from the
//! files, so directories made with other seeds and sizes work the same.

pub mod compare;
mod features;
pub mod l2tww_case;
mod metasgd_toy;
mod two_iterations;

use crate::error::{Error, Result};
use crate::models::weights::WeightFile;
pub use compare::Group;
use std::path::Path;
use tch::Device;

/// The tolerance every case must meet (relative L2 error, float64).
pub const TOLERANCE: f64 = 1e-9;

/// The result of one case (or one mode of a case).
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Case name, e.g. `vgg9bn_features[train]`.
    pub name: String,
    /// Every compared group.
    pub groups: Vec<Group>,
}

impl CaseResult {
    /// The largest relative error over the groups.
    pub fn max_err(&self) -> f64 {
        self.groups.iter().map(|g| g.rel_err).fold(0.0, f64::max)
    }
    /// Whether every group is within [`TOLERANCE`].
    pub fn passed(&self) -> bool {
        !self.groups.is_empty() && self.groups.iter().all(|g| g.rel_err <= TOLERANCE)
    }
}

/// The case files l2tww knows, in the order they run.
pub const KNOWN_CASES: &[&str] = &[
    "resnet32_features",
    "vgg9bn_features",
    "metasgd_toy",
    "l2tww_two_iterations",
];

fn run_case(dir: &Path, case: &str, dev: Device) -> Result<Vec<(String, Vec<Group>)>> {
    let file = WeightFile::read(&dir.join(format!("{case}.safetensors")))?;
    match case {
        "resnet32_features" => features::resnet_features(dir, &file, dev),
        "vgg9bn_features" => features::vgg_features(&file, dev),
        "metasgd_toy" => metasgd_toy::run(&file, dev),
        "l2tww_two_iterations" => two_iterations::run(dir, &file, dev),
        _ => unreachable!("case list and dispatch disagree"),
    }
}

/// Runs every known case present in `dir` on `dev` (float64; the CPU is where the tolerance
/// is meant: on CUDA the same cases check the GPU path). An unreadable directory or file is an error; a
/// directory with no known case is an error too, since it is almost surely the wrong one.
pub fn run_dir(
    dir: &Path,
    dev: Device,
    mut on_result: impl FnMut(&CaseResult),
) -> Result<Vec<CaseResult>> {
    if !dir.is_dir() {
        return Err(Error::bad_file(dir, "not a directory of reference cases"));
    }
    let present: Vec<&str> = KNOWN_CASES
        .iter()
        .copied()
        .filter(|c| dir.join(format!("{c}.safetensors")).exists())
        .collect();
    if present.is_empty() {
        return Err(Error::bad_file(
            dir,
            format!(
                "no known reference case here (looked for {})",
                KNOWN_CASES
                    .iter()
                    .map(|c| format!("{c}.safetensors"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let mut results = Vec::new();
    for case in present {
        for (mode, groups) in run_case(dir, case, dev)? {
            let name = if mode.is_empty() {
                case.to_string()
            } else {
                format!("{case}[{mode}]")
            };
            let r = CaseResult { name, groups };
            on_result(&r);
            results.push(r);
        }
    }
    Ok(results)
}

/// A numeric metadata value of a case file, written as JSON or as plain text.
pub(crate) fn meta_value(file: &WeightFile, key: &str) -> Result<f64> {
    let raw = file.meta(key)?;
    serde_json::from_str::<f64>(raw)
        .ok()
        .or_else(|| raw.trim().trim_matches('"').parse().ok())
        .ok_or_else(|| {
            Error::bad_file(
                &file.path,
                format!("metadata `{key}` = `{raw}` is not a number"),
            )
        })
}
