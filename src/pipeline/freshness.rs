//! Whether an instance's output is in the cache, and if not, why: never run, which parameter,
//! input or file changed since its last run (from the explanation remembered then), a damaged
//! entry, or `--force`.

use super::plan::{Instance, Plan};
use crate::cache::{Change, Entry, Lookup, Store, Verify};
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

/// The name under which an instance's last explanation is remembered.
pub fn memory_name(plan: &Plan, inst: &Instance) -> String {
    format!("{}--{}", plan.spec.name, inst.name)
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
        Lookup::Miss => {
            let reasons = match store.recall(&memory_name(plan, inst)) {
                None => vec!["never run".to_string()],
                Some(old) => {
                    let changes = inst.explanation.diff(&old);
                    if changes.is_empty() {
                        vec!["its output is no longer in the cache".to_string()]
                    } else {
                        changes
                            .iter()
                            .map(|c| match (c, inst.kind.version_note()) {
                                (Change::Version { .. }, Some(note)) => format!("{c}: {note}"),
                                _ => c.to_string(),
                            })
                            .collect()
                    }
                }
            };
            Ok(Freshness::Stale(reasons))
        }
    }
}
