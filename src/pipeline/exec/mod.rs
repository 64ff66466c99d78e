//! Running a plan. One scheduling core, [`Schedule`], serves both executors: the selection
//! (`--only`, `--force` and their errors, [`select`]), what is stale, the checks that need the
//! cache or the disk (a missing input file, a choice of images the present data cannot give,
//! with their positions, [`checks`]), readiness and failure propagation. The executors only
//! start and watch jobs: [`local`] as child processes sharing the CPU threads ([`threads`]),
//! [`slurm`] as batch jobs. Either way a job ([`job`]) runs through `l2tww exec-stage`
//! ([`stage`]).

pub mod checks;
pub mod child;
pub mod job;
pub mod local;
pub mod select;
pub mod slurm;
pub mod stage;
pub mod threads;

use super::freshness::{freshness, Freshness};
use super::plan::{InstanceId, Plan};
use crate::cache::{Store, Verify};
use crate::error::Result;
use select::Selection;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// What happened to each instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Already in the cache.
    Fresh,
    /// Computed now.
    Ran,
    /// Failed; the message and its log.
    Failed(String, PathBuf),
    /// Not run because an input failed.
    Skipped(String),
    /// Stale: would run (dry run), or waits to, with the reasons.
    WouldRun(Vec<String>),
    /// Not selected by `--only`.
    NotSelected,
}

/// The outcome of a run.
#[derive(Debug)]
pub struct RunReport {
    /// Per instance (plan order).
    pub outcomes: Vec<Outcome>,
    /// Wall time.
    pub seconds: f64,
}

impl RunReport {
    /// Whether every selected instance is fresh or ran.
    pub fn ok(&self) -> bool {
        !self
            .outcomes
            .iter()
            .any(|o| matches!(o, Outcome::Failed(..) | Outcome::Skipped(_)))
    }

    /// How many outcomes match `f`.
    pub fn count(&self, f: fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|o| f(o)).count()
    }
}

/// The state of a run: each instance's outcome so far, and the stale selected instances not
/// started yet, in plan (dependency) order.
#[derive(Debug)]
pub struct Schedule {
    /// Per instance.
    pub outcomes: Vec<Outcome>,
    /// Stale, selected, not started.
    pub waiting: Vec<InstanceId>,
    /// Recomputed even when fresh.
    pub forced: BTreeSet<InstanceId>,
}

impl Schedule {
    /// Selects by `--only`/`--force`, finds what is stale (entries checked as `verify` says)
    /// and checks the choices of images the stale instances make against the data already in
    /// the cache. Errors have positions; nothing has run.
    pub fn new(
        plan: &Plan,
        store: &Store,
        only: &[String],
        force: &[String],
        verify: Verify,
    ) -> Result<Schedule> {
        let sel = Selection::new(plan, only, force)?;
        let mut outcomes = vec![Outcome::NotSelected; plan.instances.len()];
        let mut waiting = Vec::new();
        for inst in &plan.instances {
            if !sel.selected.contains(&inst.id) {
                continue;
            }
            let forced = sel.forced.contains(&inst.id);
            outcomes[inst.id.0] = match freshness(plan, store, inst, forced, verify)? {
                Freshness::Fresh(_) => Outcome::Fresh,
                Freshness::Stale(reasons) => {
                    waiting.push(inst.id);
                    Outcome::WouldRun(reasons)
                }
            };
        }
        checks::data(plan, store, &waiting)?;
        Ok(Schedule {
            outcomes,
            waiting,
            forced: sel.forced,
        })
    }

    /// Checks that every file the waiting instances read exists (before anything runs; a dry
    /// run lists them instead).
    pub fn check_files(&self, plan: &Plan) -> Result<()> {
        checks::files(plan, &self.waiting)
    }

    /// Whether `i` is recomputed even when cached.
    pub fn is_forced(&self, i: InstanceId) -> bool {
        self.forced.contains(&i)
    }

    /// Marks the waiting instances whose inputs failed or were skipped as skipped; returns
    /// each with the input that did not complete.
    pub fn skip_blocked(&mut self, plan: &Plan) -> Vec<(InstanceId, InstanceId)> {
        let mut skipped = Vec::new();
        let mut still = Vec::new();
        for &i in &self.waiting {
            let bad = plan.instance(i).upstream().find(|u| {
                matches!(
                    self.outcomes[u.0],
                    Outcome::Failed(..) | Outcome::Skipped(_)
                )
            });
            match bad {
                Some(u) => {
                    self.outcomes[i.0] = Outcome::Skipped(format!(
                        "input {} did not complete",
                        plan.instance(u).name
                    ));
                    skipped.push((i, u));
                }
                None => still.push(i),
            }
        }
        self.waiting = still;
        skipped
    }

    /// The waiting instances whose inputs are all in the cache, in order.
    pub fn ready(&self, plan: &Plan) -> Vec<InstanceId> {
        self.waiting
            .iter()
            .copied()
            .filter(|&i| {
                plan.instance(i)
                    .upstream()
                    .all(|u| matches!(self.outcomes[u.0], Outcome::Fresh | Outcome::Ran))
            })
            .collect()
    }

    /// `i` has started.
    pub fn start(&mut self, i: InstanceId) {
        self.waiting.retain(|&w| w != i);
    }

    /// `i` ended with `outcome`.
    pub fn finish(&mut self, i: InstanceId, outcome: Outcome) {
        self.outcomes[i.0] = outcome;
    }

    /// The report of the run, `seconds` long.
    pub fn report(self, seconds: f64) -> RunReport {
        RunReport {
            outcomes: self.outcomes,
            seconds,
        }
    }
}
