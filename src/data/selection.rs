//! Which images of a split a stage uses, and how they are fed: [`Selection`] (some classes,
//! relabelled 0.. in the order given, then N images per class, stratified, seeded and nested)
//! is the one data-selection type every configuration that selects data flattens in (a subset
//! stage, a training run's data, source statistics); [`Batching`] is the batch size and the
//! resize of those that feed a network. Both check themselves against a class count (before any
//! data is read) and against a split's per-class counts. Imports `data::{store, subset}`, `error`,
//! `yaml` (range checks).

use crate::data::store::Store;
use crate::data::subset::Subset;
use crate::error::{Error, Result};
use crate::yaml::bounds::{at_least, at_least_if, Checked};
use crate::yaml::FieldError;
use serde::{Deserialize, Serialize};

/// Classes, then images per class.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Selection {
    /// Classes kept (original ids), relabelled 0.. in this order, in every split; all when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<i64>>,
    /// Training images per class (stratified, seeded, nested across sizes for one seed); all
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_class: Option<usize>,
}

/// Images per batch and an optional resize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Batching {
    /// Images per batch.
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Resize every image to this size first (e.g. 32 for STL-10 in the 32×32 setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize_to: Option<usize>,
}

fn default_batch() -> usize {
    64
}

impl Default for Batching {
    fn default() -> Self {
        Batching {
            batch: default_batch(),
            resize_to: None,
        }
    }
}

impl Batching {
    /// Checks what serde does not: a batch holds at least one image, a resize is to at least
    /// one pixel.
    pub fn check(&self) -> Checked {
        at_least("batch", self.batch, 1)?;
        at_least_if("resize-to", self.resize_to, 1)
    }
}

impl Selection {
    /// Checks what needs no data: at least one image per class, and a class list that names
    /// at least one class, none below 0 and none twice (the upper bound needs the data's
    /// class count: [`Selection::check_classes`]).
    pub fn check(&self) -> Checked {
        at_least_if("per-class", self.per_class, 1)?;
        let Some(ids) = &self.classes else {
            return Ok(());
        };
        if ids.is_empty() {
            return Err(FieldError::at(
                &["classes"],
                "lists no class (allowed: one or more class ids ≥ 0)",
            ));
        }
        for (k, &id) in ids.iter().enumerate() {
            let at = k.to_string();
            if id < 0 {
                return Err(FieldError::at(
                    &["classes", &at],
                    format!("class ids are ≥ 0, got {id}"),
                ));
            }
            if ids[..k].contains(&id) {
                return Err(FieldError::at(
                    &["classes", &at],
                    format!("class {id} is listed twice"),
                ));
            }
        }
        Ok(())
    }

    /// The rows of `store` chosen: the classes, then `per_class` of each (the selection's own
    /// `per-class` for a training split; another cap, or none, for the others) drawn with `seed`.
    pub fn subset(&self, store: &Store, per_class: Option<usize>, seed: u64) -> Result<Subset> {
        let parent = store.path.display().to_string();
        let mut subset = match &self.classes {
            Some(ids) => Subset::classes(&store.labels, ids)
                .map_err(|e| Error::bad_file(&store.path, e.to_string()))?,
            None => Subset::all(store.len(), parent.clone()),
        };
        subset.parent = parent;
        if let Some(n) = per_class {
            subset = subset.restrict_per_class(&store.labels, n, seed, &store.classes)?;
        }
        Ok(subset)
    }

    /// The number of classes selected from `count`.
    pub fn count(&self, count: usize) -> usize {
        self.classes.as_ref().map_or(count, Vec::len)
    }

    /// Checks the class ids against a split of `count` classes (before any data is read): each
    /// in range, none twice. The error names the field.
    pub fn check_classes(&self, count: usize) -> std::result::Result<(), (&'static str, String)> {
        let Some(ids) = &self.classes else {
            return Ok(());
        };
        for (k, &id) in ids.iter().enumerate() {
            if id < 0 || id as usize >= count {
                return Err((
                    "classes",
                    format!("class {id} is outside the data's {count} classes (0..{count})"),
                ));
            }
            if ids[..k].contains(&id) {
                return Err(("classes", format!("class {id} is listed twice")));
            }
        }
        if ids.is_empty() {
            return Err(("classes", "`classes` lists no class".into()));
        }
        Ok(())
    }

    /// Checks the selection against a split whose class `c` has `counts[c]` images (`names`
    /// for messages): the classes exist and each has at least `per_class` images.
    pub fn check_counts(
        &self,
        per_class: Option<usize>,
        counts: &[usize],
        names: &[String],
    ) -> std::result::Result<(), (&'static str, String)> {
        self.check_classes(counts.len())?;
        let Some(n) = per_class else { return Ok(()) };
        let chosen: Vec<usize> = match &self.classes {
            Some(ids) => ids.iter().map(|&c| c as usize).collect(),
            None => (0..counts.len()).collect(),
        };
        for c in chosen {
            if counts[c] < n {
                let name = names.get(c).map(|s| format!(" ({s})")).unwrap_or_default();
                return Err((
                    "per-class",
                    format!(
                        "class {c}{name} has {} images, fewer than the {n} per class asked for; \
                         ask for at most {0}",
                        counts[c]
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(classes: Option<Vec<i64>>, per_class: Option<usize>) -> Selection {
        Selection { classes, per_class }
    }

    #[test]
    fn classes_outside_the_count_or_twice_are_refused_with_the_field() {
        assert!(sel(Some(vec![0, 9]), None).check_classes(10).is_ok());
        let (field, msg) = sel(Some(vec![3, 10]), None).check_classes(10).unwrap_err();
        assert_eq!(field, "classes");
        assert!(msg.contains("class 10 is outside"), "{msg}");
        assert!(sel(Some(vec![1, 1]), None).check_classes(10).is_err());
    }

    #[test]
    fn what_needs_no_data_is_checked_with_the_field_and_the_range() {
        assert!(sel(Some(vec![0, 3]), Some(1)).check().is_ok());
        let e = sel(None, Some(0)).check().unwrap_err();
        assert_eq!(e.path, ["per-class"]);
        assert!(
            e.msg.contains("at least 1") && e.msg.contains("got 0"),
            "{e:?}"
        );
        assert_eq!(
            sel(Some(vec![]), None).check().unwrap_err().path,
            ["classes"]
        );
        assert_eq!(
            sel(Some(vec![2, -1]), None).check().unwrap_err().path,
            ["classes", "1"]
        );
        assert_eq!(
            sel(Some(vec![2, 2]), None).check().unwrap_err().path,
            ["classes", "1"]
        );
        let b = Batching {
            batch: 8,
            resize_to: Some(0),
        };
        assert_eq!(b.check().unwrap_err().path, ["resize-to"]);
        let b = Batching {
            batch: 0,
            resize_to: None,
        };
        assert_eq!(b.check().unwrap_err().path, ["batch"]);
    }

    #[test]
    fn per_class_above_a_class_count_names_the_class() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let s = sel(Some(vec![2, 0]), Some(5));
        assert!(s.check_counts(Some(5), &[5, 1, 9], &names).is_ok());
        let (field, msg) = s.check_counts(Some(6), &[5, 1, 9], &names).unwrap_err();
        assert_eq!(field, "per-class");
        assert!(msg.contains("class 0 (a) has 5 images"), "{msg}");
        assert!(sel(None, Some(2))
            .check_counts(Some(2), &[5, 1, 9], &names)
            .is_err());
    }
}
