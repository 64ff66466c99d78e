//! What a stage kind sees of its inputs when it is planned: each upstream instance as a
//! [`PlannedInput`] (its name, labels, typed parameters and class count), grouped by the input
//! parameter that reads it ([`Inputs`]). The planner builds these views from its instances;
//! this file imports nothing from the planner or the executor.

use super::StageParams;
use crate::pipeline::labels::Labels;

/// A planned upstream instance, as the checks against inputs see it.
#[derive(Debug, Clone, Copy)]
pub struct PlannedInput<'a> {
    /// Its name (`stage[label=value,…]`).
    pub name: &'a str,
    /// Its labels.
    pub labels: &'a Labels,
    /// Its typed parameters, paths resolved.
    pub params: &'a StageParams,
    /// The class count of the data it writes, when known before it runs.
    pub classes: Option<usize>,
}

/// The planned inputs of an instance by input parameter, for checks that look at them.
#[derive(Debug, Default)]
pub struct Inputs<'a> {
    by_role: Vec<(&'a str, Vec<PlannedInput<'a>>)>,
}

impl<'a> Inputs<'a> {
    /// The inputs read through each parameter, in the order the planner joined them.
    pub fn new(by_role: Vec<(&'a str, Vec<PlannedInput<'a>>)>) -> Self {
        Inputs { by_role }
    }

    /// The instances read through `role`.
    pub fn of(&self, role: &str) -> Vec<PlannedInput<'a>> {
        self.by_role
            .iter()
            .filter(|(r, _)| *r == role)
            .flat_map(|(_, inputs)| inputs.iter().copied())
            .collect()
    }
}
