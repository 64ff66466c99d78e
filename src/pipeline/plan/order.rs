//! The stages in dependency order (a depth-first search): a name that is no stage is an error
//! with the nearest stage name, a cycle an error naming it, both at the reference's position.

use super::super::spec::{names_in, nearest, PipelineSpec};
use super::StageId;
use crate::error::Result;
use crate::yaml::Pos;

/// The stages in dependency order; a cycle is an error naming it.
pub fn stage_order(spec: &PipelineSpec) -> Result<Vec<StageId>> {
    let n = spec.stages.len();
    let mut deps: Vec<Vec<(usize, Pos)>> = vec![Vec::new(); n];
    for (i, st) in spec.stages.iter().enumerate() {
        for (name, pos, node) in &st.params {
            if st.kind.param(name).is_some_and(|p| p.is_input()) {
                for r in names_in(&node.to_json()) {
                    match spec.stages.iter().position(|s| s.name == r) {
                        Some(j) => deps[i].push((j, *pos)),
                        None => {
                            let hint = nearest(&r, spec.stages.iter().map(|s| s.name.as_str()))
                                .map(|n| format!("; did you mean `{n}`?"))
                                .unwrap_or_default();
                            return Err(spec.err(
                                *pos,
                                format!(
                                    "`{name}` of stage `{}` names an unknown stage `{r}`{hint}",
                                    st.name
                                ),
                            ));
                        }
                    }
                }
            }
        }
    }
    // Depth-first search with colours; a grey node reached again closes a cycle.
    let mut colour = vec![0u8; n];
    let mut order = Vec::new();
    fn visit(
        i: usize,
        deps: &[Vec<(usize, Pos)>],
        colour: &mut [u8],
        order: &mut Vec<usize>,
        path: &mut Vec<usize>,
        spec: &PipelineSpec,
    ) -> Result<()> {
        colour[i] = 1;
        path.push(i);
        for &(j, pos) in &deps[i] {
            if colour[j] == 1 {
                let start = path.iter().position(|&k| k == j).unwrap_or(0);
                let mut names: Vec<&str> = path[start..]
                    .iter()
                    .map(|&k| spec.stages[k].name.as_str())
                    .collect();
                names.push(&spec.stages[j].name);
                return Err(spec.err(
                    pos,
                    format!("the stages form a cycle: {}", names.join(" → ")),
                ));
            }
            if colour[j] == 0 {
                visit(j, deps, colour, order, path, spec)?;
            }
        }
        path.pop();
        colour[i] = 2;
        order.push(i);
        Ok(())
    }
    for i in 0..n {
        if colour[i] == 0 {
            visit(i, &deps, &mut colour, &mut order, &mut Vec::new(), spec)?;
        }
    }
    Ok(order.into_iter().map(StageId).collect())
}
