//! The built-in stage kinds and the parameters each accepts: which parameters name other stages
//! (inputs), which are lists by nature, and therefore when a list in the YAML means a sweep.
//! Bumping a kind's version invalidates every cached output of that kind.

use std::fmt;
use std::str::FromStr;

/// A built-in stage kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Prepare a dataset into train/val/test Parquet files.
    Dataset,
    /// Choose classes and N images per class of a dataset, as Parquet files.
    Subset,
    /// Train a network (a source, or a target with any method).
    Train,
    /// Bring in an existing checkpoint (safetensors).
    Import,
    /// Pooled source features, channel statistics and LogME per layer.
    SourceStats,
    /// Tables and plots over training runs.
    Report,
}

/// Every kind's name, for messages.
pub const KIND_NAMES: &[&str] = &[
    "dataset",
    "subset",
    "train",
    "import",
    "source-stats",
    "report",
];

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "dataset" => Kind::Dataset,
            "subset" => Kind::Subset,
            "train" => Kind::Train,
            "import" => Kind::Import,
            "source-stats" => Kind::SourceStats,
            "report" => Kind::Report,
            _ => return Err(s.to_string()),
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = *self as usize;
        f.write_str(KIND_NAMES[i])
    }
}

/// How a parameter's YAML value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A single value; a list is a sweep over its items.
    Scalar,
    /// A list by nature (e.g. `classes`); a list of lists is a sweep.
    List,
    /// Any value (a name or a one-key map, e.g. `method`, `optim`); a list is a sweep.
    Value,
    /// The name of one stage; a list is a sweep over stages.
    Input,
    /// A list of stage names used together (e.g. `sources`); a list of lists is a sweep.
    InputList,
    /// One or more stage names whose every instance is taken together (e.g. a report's `runs`).
    InputAll,
    /// Any value, never a sweep (e.g. a report's `rows`).
    Fixed,
}

/// One parameter of a kind.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Its name in the YAML.
    pub name: &'static str,
    /// How it is read.
    pub shape: Shape,
    /// Whether it enters the stage's cache key (false for settings that cannot change results,
    /// such as the number of loader threads).
    pub keyed: bool,
    /// The kinds an input may name (empty for non-inputs).
    pub accepts: &'static [Kind],
}

const fn p(name: &'static str, shape: Shape) -> Param {
    Param {
        name,
        shape,
        keyed: true,
        accepts: &[],
    }
}

const fn input(name: &'static str, shape: Shape, accepts: &'static [Kind]) -> Param {
    Param {
        name,
        shape,
        keyed: true,
        accepts,
    }
}

const DATA: &[Kind] = &[Kind::Dataset, Kind::Subset];
const NETS: &[Kind] = &[Kind::Train, Kind::Import];

const DATASET_PARAMS: &[Param] = {
    use Shape::*;
    &[
        p("dataset", Scalar),
        p("from", Scalar),
        p("splits", Scalar),
        p("val-fraction", Scalar),
        p("seed", Scalar),
    ]
};

const SUBSET_PARAMS: &[Param] = {
    use Shape::*;
    &[
        input("data", Input, DATA),
        p("classes", List),
        p("per-class", Scalar),
        p("val-per-class", Scalar),
        p("test-per-class", Scalar),
        p("seed", Scalar),
    ]
};

const TRAIN_PARAMS: &[Param] = {
    use Shape::*;
    &[
        input("data", Input, DATA),
        input("sources", InputList, NETS),
        p("arch", Scalar),
        p("method", Value),
        p("optim", Value),
        p("eval", Value),
        p("seed", Scalar),
        p("classes", List),
        p("per-class", Scalar),
        p("subset-seed", Scalar),
        p("batch", Scalar),
        p("augment", Scalar),
        p("resize-to", Scalar),
        p("precision", Scalar),
        Param {
            name: "loader-threads",
            shape: Scalar,
            keyed: false,
            accepts: &[],
        },
    ]
};

const IMPORT_PARAMS: &[Param] = {
    use Shape::*;
    &[p("checkpoint", Scalar)]
};

const SOURCE_STATS_PARAMS: &[Param] = {
    use Shape::*;
    &[
        input("source", Input, NETS),
        input("data", Input, DATA),
        p("split", Scalar),
        p("classes", List),
        p("per-class", Scalar),
        p("seed", Scalar),
        p("batch", Scalar),
        p("resize-to", Scalar),
        p("normalize", Scalar),
        p("crop", Scalar),
        p("taps", List),
    ]
};

const REPORT_PARAMS: &[Param] = {
    use Shape::*;
    &[
        input("runs", InputAll, &[Kind::Train]),
        input("logme", InputAll, &[Kind::SourceStats]),
        p("rows", Fixed),
        p("cols", Fixed),
        p("value", Fixed),
        p("order", Fixed),
        p("baseline", Fixed),
        p("plot", Fixed),
    ]
};

impl Kind {
    /// The version of the kind's implementation (part of every key).
    pub fn version(self) -> u32 {
        match self {
            Kind::Train => 2,
            _ => 1,
        }
    }

    /// Why the kind's version last changed, for `status` when a cached output was made by an
    /// older version.
    pub fn version_note(self) -> Option<&'static str> {
        match self {
            Kind::Train => Some(
                "trainings are recomputed: the default `cosine` schedule is now the paper's \
                 (epoch e at lr·(1 + cos(πe/E))/2, never zero; the old one is `cosine-shifted`), \
                 and L2T-ww leaves the batch-norm statistics as the official loop does",
            ),
            _ => None,
        }
    }

    /// Whether the stage trains or runs networks (one per GPU at a time).
    pub fn uses_device(self) -> bool {
        matches!(self, Kind::Train | Kind::SourceStats)
    }

    /// The parameters the kind accepts (besides `kind`).
    pub fn params(self) -> &'static [Param] {
        match self {
            Kind::Dataset => DATASET_PARAMS,
            Kind::Subset => SUBSET_PARAMS,
            Kind::Train => TRAIN_PARAMS,
            Kind::Import => IMPORT_PARAMS,
            Kind::SourceStats => SOURCE_STATS_PARAMS,
            Kind::Report => REPORT_PARAMS,
        }
    }

    /// The parameter called `name`, if the kind has one.
    pub fn param(self, name: &str) -> Option<&'static Param> {
        self.params().iter().find(|p| p.name == name)
    }
}

impl Param {
    /// Whether the parameter names other stages.
    pub fn is_input(&self) -> bool {
        matches!(
            self.shape,
            Shape::Input | Shape::InputList | Shape::InputAll
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for name in KIND_NAMES {
            let k: Kind = name.parse().unwrap();
            assert_eq!(k.to_string(), *name);
        }
    }
}
