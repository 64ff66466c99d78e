//! The built-in stage kinds as adapters over the library: one [`StageKind`] per kind, whose
//! parameters type *is* the domain configuration (composed with `#[serde(flatten)]`, never
//! re-declared), with its parameter table, version, plan-time checks, external files and run.
//! [`StageParams`] is the typed parameters of an instance, by kind, as the plan and the job hold
//! them. A kind sees its inputs through its own types: [`Inputs`] when planned, a
//! [`StageContext`] when run; the planner and the executor build them, and nothing here
//! imports either (the order is spec → stages → plan → freshness → exec).

mod context;
mod dataset;
mod import;
mod input;
mod report;
mod source_stats;
mod subset;
#[cfg(test)]
mod tables;
mod train;

use super::kinds::{Kind, Param};
use crate::data::Selection;
use crate::device::Precision;
use crate::error::Result;
use crate::yaml::{self, FieldError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

pub use context::{ProgressFn, StageContext, Upstream, UpstreamByRole};
pub use input::{Inputs, PlannedInput};
pub use train::checkpoint_of;

/// An external file or folder a parameter names.
#[derive(Debug, Clone, PartialEq)]
pub struct FileParam {
    /// Its name in the key (`from`, `standardize.0`).
    pub name: String,
    /// Where it is written among the parameters (`["method", "l2t-ww", "standardize"]`): that
    /// value is left out of the key, which takes the file's content instead.
    pub param: Vec<String>,
    /// The path, resolved.
    pub path: PathBuf,
}

/// The external files and extra key parts of an instance.
#[derive(Debug, Default)]
pub struct External {
    /// Files or folders read.
    pub files: Vec<FileParam>,
    /// Further key parts (e.g. the checksums of files to download).
    pub params: Vec<(String, Value)>,
}

/// A choice of images from a split of the `data` input, checked against the split's class
/// counts when that input is already in the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct Demand {
    /// The split (`train`, `val`, `test`).
    pub split: &'static str,
    /// The classes chosen.
    pub select: Selection,
    /// Images per class asked of that split.
    pub per_class: Option<usize>,
    /// The parameter that asks for them (for the error's position).
    pub param: &'static str,
}

/// One kind of stage.
pub trait StageKind {
    /// Its parameters as written (inputs excluded); paths resolved by [`StageKind::resolve`].
    type Params: Serialize + DeserializeOwned + Clone + std::fmt::Debug;
    /// Its parameter table.
    const PARAMS: &'static [Param];
    /// The version of the implementation (part of every key): bump it when outputs change.
    const VERSION: u32 = 1;
    /// Why the version last changed, for `status`.
    const VERSION_NOTE: Option<&'static str> = None;
    /// Whether it runs networks (at most one per GPU at a time).
    const USES_DEVICE: bool = false;

    /// Rewrites the parameters as written before they are typed (`rows: x` → `rows: [x]`).
    fn normalise(_raw: &mut Map<String, Value>) {}
    /// Checks what the types cannot (ranges, combinations of fields).
    fn check(_p: &Self::Params) -> Result<(), FieldError> {
        Ok(())
    }
    /// Resolves relative paths against `base` (`~/` is the home folder) and names the external
    /// files.
    fn resolve(_p: &mut Self::Params, _base: &Path) -> External {
        External::default()
    }
    /// The precision it computes in, given the run's (None: it computes with no network).
    fn precision(_p: &Self::Params, _run: Precision) -> Option<Precision> {
        None
    }
    /// Checks against the planned inputs (labels, class counts, architectures).
    fn check_inputs(_p: &Self::Params, _inputs: &Inputs) -> Result<(), FieldError> {
        Ok(())
    }
    /// What it needs on this machine that is not there (a dataset not installed), as an error
    /// at the parameter concerned: checked before a run starts, listed by a dry run.
    fn unavailable(_p: &Self::Params) -> Option<FieldError> {
        None
    }
    /// How many classes the data it writes has, when known before it runs.
    fn classes(_p: &Self::Params, _inputs: &Inputs) -> Option<usize> {
        None
    }
    /// What it asks of its `data` input's splits.
    fn demands(_p: &Self::Params) -> Vec<Demand> {
        Vec::new()
    }
    /// Runs a job into `ctx.out`; returns the metrics recorded in the manifest.
    fn run(p: &Self::Params, ctx: &mut StageContext) -> Result<Value>;
}

/// A field error from a domain check that names one field.
pub fn field(e: (&'static str, String)) -> FieldError {
    FieldError::at(&[e.0], e.1)
}

macro_rules! stage_kinds {
    ($($variant:ident => $stage:ty),* $(,)?) => {
        /// The typed parameters of an instance, tagged by kind (as a job file holds them).
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "kind", content = "params", rename_all = "kebab-case")]
        pub enum StageParams {
            $(
                #[allow(missing_docs)]
                $variant(<$stage as StageKind>::Params),
            )*
        }

        impl StageParams {
            /// Its kind.
            pub fn kind(&self) -> Kind {
                match self { $(StageParams::$variant(_) => Kind::$variant),* }
            }

            /// Types and checks the parameters of a `kind` stage as written.
            pub fn parse(kind: Kind, raw: &Map<String, Value>) -> Result<StageParams, FieldError> {
                match kind {
                    $(Kind::$variant => {
                        let mut raw = raw.clone();
                        <$stage>::normalise(&mut raw);
                        let p = yaml::typed(&Value::Object(raw))?;
                        <$stage>::check(&p)?;
                        Ok(StageParams::$variant(p))
                    })*
                }
            }

            /// Resolves the paths among the parameters; names the external files.
            pub fn resolve(&mut self, base: &Path) -> External {
                match self { $(StageParams::$variant(p) => <$stage>::resolve(p, base)),* }
            }

            /// The precision it computes in, given the run's.
            pub fn precision(&self, run: Precision) -> Option<Precision> {
                match self { $(StageParams::$variant(p) => <$stage>::precision(p, run)),* }
            }

            /// Checks against the planned inputs.
            pub fn check_inputs(&self, inputs: &Inputs) -> Result<(), FieldError> {
                match self { $(StageParams::$variant(p) => <$stage>::check_inputs(p, inputs)),* }
            }

            /// What it needs on this machine that is not there.
            pub fn unavailable(&self) -> Option<FieldError> {
                match self { $(StageParams::$variant(p) => <$stage>::unavailable(p)),* }
            }

            /// The class count of the data it writes, when known before it runs.
            pub fn classes(&self, inputs: &Inputs) -> Option<usize> {
                match self { $(StageParams::$variant(p) => <$stage>::classes(p, inputs)),* }
            }

            /// What it asks of its `data` input.
            pub fn demands(&self) -> Vec<Demand> {
                match self { $(StageParams::$variant(p) => <$stage>::demands(p)),* }
            }

            /// Runs a job.
            pub fn run(&self, ctx: &mut StageContext) -> Result<Value> {
                match self { $(StageParams::$variant(p) => <$stage>::run(p, ctx)),* }
            }
        }

        impl Kind {
            /// The parameters the kind accepts (besides `kind`).
            pub fn params(self) -> &'static [Param] {
                match self { $(Kind::$variant => <$stage>::PARAMS),* }
            }

            /// The version of the kind's implementation (part of every key).
            pub fn version(self) -> u32 {
                match self { $(Kind::$variant => <$stage>::VERSION),* }
            }

            /// Why the kind's version last changed, for `status` when a cached output was made
            /// by an older version.
            pub fn version_note(self) -> Option<&'static str> {
                match self { $(Kind::$variant => <$stage>::VERSION_NOTE),* }
            }

            /// Whether the stage trains or runs networks (one per GPU at a time).
            pub fn uses_device(self) -> bool {
                match self { $(Kind::$variant => <$stage>::USES_DEVICE),* }
            }
        }
    };
}

stage_kinds!(
    Dataset => dataset::DatasetStage,
    Subset => subset::SubsetStage,
    Train => train::TrainStage,
    Import => import::ImportStage,
    SourceStats => source_stats::SourceStatsStage,
    Report => report::ReportStage,
);

/// A path from a parameter: `~/` is the home folder, relative paths are taken from `base`.
pub fn resolve_path(p: &Path, base: &Path) -> PathBuf {
    if let Ok(rest) = p.strip_prefix("~") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}
