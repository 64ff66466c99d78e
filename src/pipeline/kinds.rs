//! The built-in stage kinds by name ([`Kind`]) and how a kind's parameters are read from the
//! YAML ([`Param`]): which name other stages (inputs), which are lists by nature, and therefore
//! when a list in the YAML means a sweep; whether `defaults` merge into them key by key; whether
//! they enter the key. Each kind's table lives beside its parameters type in `stages/`, and a
//! test there checks the table against the type. What a kind does is the
//! [`StageKind`](super::stages::StageKind) trait.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A built-in stage kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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

const KINDS: [Kind; 6] = [
    Kind::Dataset,
    Kind::Subset,
    Kind::Train,
    Kind::Import,
    Kind::SourceStats,
    Kind::Report,
];

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        KIND_NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| KINDS[i])
            .ok_or_else(|| s.to_string())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(KIND_NAMES[*self as usize])
    }
}

/// How a parameter's YAML value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A single value; a list is a sweep over its items.
    Scalar,
    /// A list by nature (e.g. `classes`); a list of lists is a sweep.
    List,
    /// Any value (a name or a map, e.g. `method`, `optim`); a list is a sweep.
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

/// How `defaults` of a kind combine with a stage's own value of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// The stage's value replaces the default.
    Replace,
    /// Mappings merge key by key at every depth (`optim: {epochs: 2}` keeps a default
    /// `weight-decay`); anything else replaces.
    Fields,
    /// A one-key mapping naming a variant (`method: {l2t-ww: {…}}`): the options of the same
    /// variant merge key by key; another variant replaces.
    Variant,
}

/// One parameter of a kind.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Its name in the YAML.
    pub name: &'static str,
    /// How it is read.
    pub shape: Shape,
    /// How defaults merge into it.
    pub merge: Merge,
    /// Whether its value as written enters the stage's cache key (false for settings that
    /// cannot change results, such as the number of loader threads, and for values the key
    /// takes in another form, such as the precision).
    pub keyed: bool,
    /// The kinds an input may name (empty for non-inputs).
    pub accepts: &'static [Kind],
}

impl Param {
    /// A keyed parameter that is not an input.
    pub const fn new(name: &'static str, shape: Shape) -> Param {
        Param {
            name,
            shape,
            merge: Merge::Replace,
            keyed: true,
            accepts: &[],
        }
    }

    /// An input naming stages of the `accepts` kinds.
    pub const fn input(name: &'static str, shape: Shape, accepts: &'static [Kind]) -> Param {
        Param {
            accepts,
            ..Param::new(name, shape)
        }
    }

    /// The same parameter with another merge rule.
    pub const fn merged(self, merge: Merge) -> Param {
        Param { merge, ..self }
    }

    /// The same parameter, not keyed as written.
    pub const fn unkeyed(self) -> Param {
        Param {
            keyed: false,
            ..self
        }
    }

    /// Whether the parameter names other stages.
    pub fn is_input(&self) -> bool {
        matches!(
            self.shape,
            Shape::Input | Shape::InputList | Shape::InputAll
        )
    }
}

/// The kinds whose stages hold data.
pub const DATA: &[Kind] = &[Kind::Dataset, Kind::Subset];
/// The kinds whose stages hold a network.
pub const NETS: &[Kind] = &[Kind::Train, Kind::Import];

impl Kind {
    /// The parameter called `name`, if the kind has one.
    pub fn param(self, name: &str) -> Option<&'static Param> {
        self.params().iter().find(|p| p.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip_as_text_and_as_json() {
        for name in KIND_NAMES {
            let k: Kind = name.parse().unwrap();
            assert_eq!(k.to_string(), *name);
            assert_eq!(serde_json::to_value(k).unwrap(), *name);
        }
    }
}
