//! Pair schemes: which (source tap, target tap) pairs a matching method uses. `single`: the
//! source's last tap to the target tap of the same resolution; `one-to-one`: the last tap of each
//! source stage to the target tap of the same resolution; `all-to-all`: every source stage end ×
//! every target tap (bilinear resize between them, the L2T-ww candidates); or an explicit list.

use super::pairs::{check_pairs, parse_pairs, Pair};
use crate::error::{Error, Result};
use crate::models::Tap;
use serde::{Deserialize, Serialize};

/// A pair scheme as written in configurations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PairScheme {
    /// The source's last tap → the target tap of the same resolution.
    Single,
    /// Each source stage's last tap → the target tap of the same resolution.
    OneToOne,
    /// Every source stage end × every target tap.
    AllToAll,
    /// Explicit pairs, `m-n,m-n,…` (tap indices).
    Explicit(String),
}

/// Indices of the taps that end a stage: the last tap before the resolution or width changes.
pub fn stage_ends(taps: &[Tap], input: i64) -> Vec<usize> {
    (0..taps.len())
        .filter(|&i| {
            i + 1 == taps.len()
                || taps[i + 1].spatial(input) != taps[i].spatial(input)
                || taps[i + 1].channels != taps[i].channels
        })
        .collect()
}

fn same_resolution(m: usize, source: &[Tap], target: &[Tap], input: i64) -> Result<Pair> {
    let s = source[m].spatial(input);
    let n = (0..target.len()).rev().find(|&n| target[n].spatial(input) == s).ok_or_else(|| {
        Error::Invalid(format!(
            "no target tap has the resolution {s}×{s} of source tap {m} ({}) at input {input}; use all-to-all or explicit pairs",
            source[m].name
        ))
    })?;
    Ok(Pair {
        source: m,
        target: n,
    })
}

impl PairScheme {
    /// The pairs for these networks at input size `input`.
    pub fn resolve(&self, source: &[Tap], target: &[Tap], input: i64) -> Result<Vec<Pair>> {
        let pairs = match self {
            PairScheme::Single => vec![same_resolution(source.len() - 1, source, target, input)?],
            PairScheme::OneToOne => stage_ends(source, input)
                .into_iter()
                .map(|m| same_resolution(m, source, target, input))
                .collect::<Result<_>>()?,
            PairScheme::AllToAll => stage_ends(source, input)
                .into_iter()
                .flat_map(|m| {
                    (0..target.len()).map(move |n| Pair {
                        source: m,
                        target: n,
                    })
                })
                .collect(),
            PairScheme::Explicit(text) => parse_pairs(text)?,
        };
        check_pairs(&pairs, source, target)?;
        Ok(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Arch, Model};
    use tch::{Device, Kind};

    fn taps(arch: &str) -> Vec<Tap> {
        Model::new(arch.parse::<Arch>().unwrap(), 10, Device::Cpu, Kind::Float)
            .unwrap()
            .net
            .taps()
            .to_vec()
    }

    #[test]
    fn all_to_all_from_resnet32_to_vgg9_gives_the_papers_fifteen_pairs() {
        let pairs = PairScheme::AllToAll
            .resolve(&taps("resnet32"), &taps("vgg9-bn"), 32)
            .unwrap();
        let text: Vec<String> = pairs
            .iter()
            .map(|p| format!("{}-{}", p.source, p.target))
            .collect();
        assert_eq!(
            text.join(","),
            "4-0,4-1,4-2,4-3,4-4,9-0,9-1,9-2,9-3,9-4,14-0,14-1,14-2,14-3,14-4"
        );
    }

    #[test]
    fn one_to_one_and_single_match_resolutions() {
        let (s, t) = (taps("resnet20"), taps("vgg9-bn"));
        let one: Vec<(usize, usize)> = PairScheme::OneToOne
            .resolve(&s, &t, 32)
            .unwrap()
            .iter()
            .map(|p| (p.source, p.target))
            .collect();
        assert_eq!(one, vec![(2, 0), (5, 1), (8, 2)]);
        let single = PairScheme::Single.resolve(&s, &t, 32).unwrap();
        assert_eq!((single[0].source, single[0].target), (8, 2));
    }

    #[test]
    fn an_explicit_pair_naming_a_missing_tap_lists_both_networks_taps() {
        let err = PairScheme::Explicit("3-7".into())
            .resolve(&taps("resnet20"), &taps("vgg9-bn"), 32)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("3-7") && err.contains("blocks6.1") && err.contains("features.27"),
            "{err}"
        );
    }
}
