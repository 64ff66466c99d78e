//! Candidate pairs (source tap m, target tap n) for feature matching, written `m-n,m-n,…` as in
//! the official code. Indices refer to the networks' tap lists; a pair naming a tap that does not
//! exist is an error listing both networks' taps.

use crate::error::{Error, Result};
use crate::models::Tap;

/// One candidate pair: source tap index and target tap index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    /// Index into the source network's taps.
    pub source: usize,
    /// Index into the target network's taps.
    pub target: usize,
}

/// Parses `m-n,m-n,…`.
pub fn parse_pairs(text: &str) -> Result<Vec<Pair>> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let bad = || {
                Error::Invalid(format!(
                    "pair `{s}` is not of the form m-n (source tap - target tap)"
                ))
            };
            let (m, n) = s.split_once('-').ok_or_else(bad)?;
            Ok(Pair {
                source: m.trim().parse().map_err(|_| bad())?,
                target: n.trim().parse().map_err(|_| bad())?,
            })
        })
        .collect()
}

fn list(taps: &[Tap]) -> String {
    taps.iter()
        .enumerate()
        .map(|(i, t)| format!("{i}:{}({}ch)", t.name, t.channels))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks every pair against the taps of both networks.
pub fn check_pairs(pairs: &[Pair], source: &[Tap], target: &[Tap]) -> Result<()> {
    for p in pairs {
        if p.source >= source.len() || p.target >= target.len() {
            return Err(Error::Invalid(format!(
                "pair {}-{} names a tap that does not exist\n  source taps: {}\n  target taps: {}",
                p.source,
                p.target,
                list(source),
                list(target)
            )));
        }
    }
    Ok(())
}

/// Every source tap × every target tap.
pub fn all_to_all(source: &[Tap], target: &[Tap]) -> Vec<Pair> {
    (0..source.len())
        .flat_map(|m| {
            (0..target.len()).map(move |n| Pair {
                source: m,
                target: n,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_parse_in_the_official_notation_and_bad_ones_are_rejected() {
        assert_eq!(
            parse_pairs("4-0, 14-4").unwrap(),
            vec![
                Pair {
                    source: 4,
                    target: 0
                },
                Pair {
                    source: 14,
                    target: 4
                }
            ]
        );
        assert!(parse_pairs("4:0").is_err());
        assert!(parse_pairs("a-1").is_err());
    }
}
