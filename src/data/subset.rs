//! Subsets of a split as index lists with their seed and parent: class subsets (labels
//! renumbered, the mapping kept) and stratified, seeded, nested per-class subsets (for one seed,
//! the 50 per class lie within the 100 per class). Serialised as JSON.
use crate::data::rng::stream;
use crate::error::{Error, Result};
use crate::fsx;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Rows of a parent split, with how they were chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subset {
    /// Rows of the parent split, ascending.
    pub indices: Vec<usize>,
    /// The seed that chose them (none for deterministic choices).
    pub seed: Option<u64>,
    /// What the indices index (a Parquet file, or a description).
    pub parent: String,
    /// Images per class, for per-class subsets.
    pub per_class: Option<usize>,
    /// For class subsets: the original class ids kept; new label `i` is original `classes[i]`.
    pub classes: Option<Vec<i64>>,
}

impl Subset {
    /// All `n` rows of `parent`.
    pub fn all(n: usize, parent: impl Into<String>) -> Subset {
        Subset {
            indices: (0..n).collect(),
            seed: None,
            parent: parent.into(),
            per_class: None,
            classes: None,
        }
    }

    /// The rows whose label is among `ids`, relabelled `0..ids.len()` in the order of `ids`.
    pub fn classes(labels: &[i64], ids: &[i64]) -> Result<Subset> {
        for (k, id) in ids.iter().enumerate() {
            if ids[..k].contains(id) {
                return Err(Error::Invalid(format!("class {id} is listed twice")));
            }
            if !labels.contains(id) {
                return Err(Error::Invalid(format!(
                    "class {id} has no samples in this split"
                )));
            }
        }
        let indices = (0..labels.len())
            .filter(|&i| ids.contains(&labels[i]))
            .collect();
        Ok(Subset {
            indices,
            seed: None,
            parent: String::new(),
            per_class: None,
            classes: Some(ids.to_vec()),
        })
    }

    /// `n` rows per class of `labels`, stratified and seeded: each class's rows are shuffled by
    /// a stream of (seed, class) and the first `n` taken, so smaller subsets nest in larger ones.
    /// Fewer than `n` rows in a class is an error naming the class (`names[class]` if given).
    pub fn per_class(labels: &[i64], n: usize, seed: u64, names: &[String]) -> Result<Subset> {
        Subset::all(labels.len(), "").restrict_per_class(labels, n, seed, names)
    }

    /// This subset's label for an original label (identity unless it is a class subset).
    pub fn label(&self, original: i64) -> Option<i64> {
        match &self.classes {
            None => Some(original),
            Some(ids) => ids.iter().position(|&c| c == original).map(|p| p as i64),
        }
    }

    /// Keeps `n` rows per (relabelled) class of this subset; `labels` are the parent's labels.
    pub fn restrict_per_class(
        &self,
        labels: &[i64],
        n: usize,
        seed: u64,
        names: &[String],
    ) -> Result<Subset> {
        let mut by_class: std::collections::BTreeMap<i64, Vec<usize>> = Default::default();
        for &i in &self.indices {
            let l = *labels.get(i).ok_or_else(|| {
                Error::Invalid(format!(
                    "subset row {i} is beyond the {} rows given; the subset belongs to another split",
                    labels.len()
                ))
            })?;
            by_class.entry(l).or_default().push(i);
        }
        let mut chosen = Vec::new();
        for (class, mut rows) in by_class {
            if rows.len() < n {
                let name = names
                    .get(class as usize)
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                return Err(Error::Invalid(format!("class {class}{name} has {} samples, fewer than the {n} per class asked for; ask for at most {0}", rows.len())));
            }
            rows.shuffle(&mut stream("per-class", &[seed, class as u64]));
            chosen.extend_from_slice(&rows[..n]);
        }
        chosen.sort_unstable();
        Ok(Subset {
            indices: chosen,
            seed: Some(seed),
            parent: self.parent.clone(),
            per_class: Some(n),
            classes: self.classes.clone(),
        })
    }

    /// Splits off a stratified, seeded validation part: `fraction` of each class (rounded, at
    /// least one when the class has two or more rows). Returns (train, val).
    pub fn split_off(&self, labels: &[i64], fraction: f64, seed: u64) -> (Subset, Subset) {
        let mut by_class: std::collections::BTreeMap<i64, Vec<usize>> = Default::default();
        for &i in &self.indices {
            by_class.entry(labels[i]).or_default().push(i);
        }
        let (mut train, mut val) = (Vec::new(), Vec::new());
        for (class, mut rows) in by_class {
            rows.shuffle(&mut stream("val-split", &[seed, class as u64]));
            let mut k = (rows.len() as f64 * fraction).round() as usize;
            if fraction > 0.0 && k == 0 && rows.len() >= 2 {
                k = 1;
            }
            val.extend_from_slice(&rows[..k]);
            train.extend_from_slice(&rows[k..]);
        }
        train.sort_unstable();
        val.sort_unstable();
        let mk = |indices| Subset {
            indices,
            seed: Some(seed),
            parent: self.parent.clone(),
            per_class: None,
            classes: self.classes.clone(),
        };
        (mk(train), mk(val))
    }

    /// Writes the subset as JSON (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        fsx::write_atomic(
            path,
            serde_json::to_string_pretty(self)
                .expect("a subset serialises")
                .as_bytes(),
        )
    }

    /// Reads a subset written by [`Subset::save`].
    pub fn load(path: &Path) -> Result<Subset> {
        let text = fsx::read_to_string(path)?;
        serde_json::from_str(&text)
            .map_err(|e| Error::line(path, e.line(), format!("not a subset file: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<i64> {
        (0..300).map(|i| (i % 3) as i64).collect()
    }

    #[test]
    fn per_class_subsets_are_nested_stratified_and_reproducible() {
        let l = labels();
        let small = Subset::per_class(&l, 5, 7, &[]).unwrap();
        let big = Subset::per_class(&l, 50, 7, &[]).unwrap();
        assert_eq!(small.indices.len(), 15);
        assert!(small.indices.iter().all(|i| big.indices.contains(i)));
        for c in 0..3 {
            assert_eq!(big.indices.iter().filter(|&&i| l[i] == c).count(), 50);
        }
        assert_eq!(big, Subset::per_class(&l, 50, 7, &[]).unwrap());
        assert_ne!(
            big.indices,
            Subset::per_class(&l, 50, 8, &[]).unwrap().indices
        );
    }

    #[test]
    fn asking_for_more_than_a_class_has_names_the_class_and_its_count() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let err = Subset::per_class(&labels(), 101, 0, &names)
            .unwrap_err()
            .to_string();
        assert!(err.contains("class 0 (a) has 100 samples"), "{err}");
    }

    #[test]
    fn class_subsets_renumber_labels_and_validation_splits_partition() {
        let l = labels();
        let s = Subset::classes(&l, &[2, 0]).unwrap();
        assert_eq!(s.indices.len(), 200);
        assert_eq!(
            (s.label(2), s.label(0), s.label(1)),
            (Some(0), Some(1), None)
        );
        let (tr, va) = s.split_off(&l, 0.1, 3);
        assert_eq!((tr.indices.len(), va.indices.len()), (180, 20));
        assert!(va
            .indices
            .iter()
            .all(|i| !tr.indices.contains(i) && l[*i] != 1));
        assert!(Subset::classes(&l, &[5]).is_err());
        assert!(Subset::all(301, "")
            .restrict_per_class(&l, 1, 0, &[])
            .is_err());
    }
}
