//! The report of a study: from finished training runs (each a folder with `summary.json` and
//! `metrics.parquet`, labelled with its sweep coordinates) to a mean ± std table in Markdown and
//! CSV, the paired differences against a baseline with their 95 % intervals, how far the
//! meta-networks moved, an optional LogME ranking, and PNG plots (accuracy and the paired
//! differences against the sweep's x, learning curves, λ and the entropy of w over the epochs),
//! all of it also in one self-contained `index.html` with each run's provenance.
//!
//! [`render`] is what the pipeline calls; [`write_report`] is the table part alone. The module
//! imports only `error`, `fsx` and the record schema in `transfer::record`: never the pipeline,
//! the models or the data code.

pub mod agreement;
pub mod comparison;
pub mod csv;
pub mod frame;
pub mod html;
pub mod logme;
pub mod markdown;
pub mod movement;
pub mod order;
pub mod paired;
pub mod plots;
pub mod series;
pub mod spec;
pub mod table;
mod write;

pub use spec::{BaselineSpec, PlotSpec, ReportSpec, Value};
pub use table::{Cell, Pivot};
pub use write::{render, render_titled, write_report, Rendered, ReportFiles};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A finished training run: its sweep coordinates and the folder `l2tww train` wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRef {
    /// The run's labels (`per_class=50`, `method=l2t-ww`, `seed=1`, …).
    pub labels: BTreeMap<String, String>,
    /// The folder with `summary.json` and `metrics.parquet`.
    pub dir: PathBuf,
    /// Where the run came from, for the page's provenance table (`instance`, `key`, `l2tww`,
    /// `torch`, `device`, `threads`, `started`, `seconds`; any may be absent).
    #[serde(default)]
    pub provenance: BTreeMap<String, String>,
}
