//! Whether an instance's output is in the cache, and if not, why: never run, which parameter,
//! input or file changed since its last run (from the explanation remembered then), a damaged
//! entry, `--force`, or keys computed in an older scheme. What was last run is remembered by the
//! instance's identity (its stage and position in the sweeps), not its name, so an edit that
//! changes only labels keeps the memory.

use super::kinds::Kind;
use super::plan::{Instance, Plan};
use crate::cache::{Change, Entry, Explanation, Lookup, Store, Verify};
use crate::error::Result;

/// Fresh (with its entry) or stale (with the reasons).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per planned instance
pub enum Freshness {
    /// The output is in the cache.
    Fresh(Entry),
    /// It must run, for these reasons.
    Stale(Vec<String>),
}

/// What `status` says once about caches made before the key scheme changed.
const SCHEME_NOTE: &str = "computed again once: l2tww's cache keys changed — files are now \
     identified by their content alone (no paths, so a moved or cloned project keeps its \
     entries), `defaults` merge key by key, and `--precision` enters the keys of the stages \
     that compute with networks";

/// The name under which an instance's last explanation is remembered.
pub fn memory_name(plan: &Plan, inst: &Instance) -> String {
    format!(
        "{}--{}--{}",
        plan.spec.name,
        plan.stage_of(inst).name,
        inst.identity
    )
}

/// What the previous scheme remembered an instance by (its name).
fn old_memory_name(plan: &Plan, inst: &Instance) -> String {
    format!("{}--{}", plan.spec.name, inst.name)
}

/// The explanation remembered from the instance's last run, if any.
pub fn recall(plan: &Plan, store: &Store, inst: &Instance) -> Option<Explanation> {
    store
        .recall(&memory_name(plan, inst))
        .or_else(|| store.recall(&old_memory_name(plan, inst)))
}

/// The freshness of `inst`.
pub fn freshness(
    plan: &Plan,
    store: &Store,
    inst: &Instance,
    force: bool,
    verify: Verify,
) -> Result<Freshness> {
    if force {
        return Ok(Freshness::Stale(vec!["forced (--force)".into()]));
    }
    match store.lookup(&inst.key, verify)? {
        Lookup::Hit(e) => Ok(Freshness::Fresh(e)),
        Lookup::Corrupt(why) => Ok(Freshness::Stale(vec![format!(
            "its cache entry is damaged ({why}); it will be recomputed"
        )])),
        Lookup::Miss => Ok(Freshness::Stale(reasons(
            &inst.explanation,
            inst.kind,
            recall(plan, store, inst),
        ))),
    }
}

fn reasons(now: &Explanation, kind: Kind, old: Option<Explanation>) -> Vec<String> {
    let Some(old) = old else {
        return vec!["never run".to_string()];
    };
    let changes = now.diff(&old);
    if changes.is_empty() {
        return vec!["its output is no longer in the cache".to_string()];
    }
    changes
        .iter()
        .map(|c| match (c, kind.version_note()) {
            (Change::Scheme { .. }, _) => format!("{c}: {SCHEME_NOTE}"),
            (Change::Version { .. }, Some(note)) => format!("{c}: {note}"),
            _ => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::KeyBuilder;
    use serde_json::json;

    #[test]
    fn an_entry_of_the_old_key_scheme_is_stale_once_with_the_reason() {
        let (_, now) = KeyBuilder::new("train", 2).param("seed", json!(1)).finish();
        let mut old = now.clone();
        old.scheme = 1;
        old.params
            .insert("file.from".into(), json!({"path": "/a", "blake3": "b"}));
        let why = reasons(&now, Kind::Train, Some(old));
        assert_eq!(why.len(), 1, "{why:?}");
        assert!(
            why[0].starts_with("key scheme 1 → 2: computed again once")
                && why[0].contains("content alone"),
            "{why:?}"
        );
        assert_eq!(reasons(&now, Kind::Train, None), ["never run"]);
    }
}
