//! One instance made whole: its parameters typed by its kind and checked (alone, then against
//! its planned inputs), its paths resolved, its name (two instances of a stage with one name are
//! an error), its identity, and its cache key — the parameters as written (comments, order and
//! formatting never matter; a path never enters: the file's content does), the run's precision
//! where the kind computes with networks, the keys of its inputs and the labels of the instances
//! a report reads.

use super::super::spec::StageSpec;
use super::super::stages::{Inputs, StageParams};
use super::expand::Partial;
use super::{labels_json, pos_in, FileInput, Instance, InstanceId, Plan, StageId};
use crate::cache::{FileHashes, KeyBuilder};
use crate::device::Precision;
use crate::error::Result;
use crate::pipeline::kinds::Shape;
use crate::yaml::FieldError;
use serde_json::{Map, Value as J};

/// Removes the value at `path` from `map` (nothing when it is not there).
fn remove_at(map: &mut Map<String, J>, path: &[String]) {
    match path {
        [] => {}
        [last] => {
            map.remove(last);
        }
        [first, rest @ ..] => {
            if let Some(J::Object(inner)) = map.get_mut(first) {
                remove_at(inner, rest);
            }
        }
    }
}

impl Plan {
    fn field_err(&self, stage: &StageSpec, p: &Partial, e: FieldError) -> crate::error::Error {
        let pos = pos_in(stage, &p.picked, &e.path);
        self.spec
            .err(pos, format!("stage `{}`: {}", stage.name, e.shown()))
    }

    pub(super) fn add_instance(
        &mut self,
        s: StageId,
        stage: &StageSpec,
        p: Partial,
        hashes: &FileHashes,
    ) -> Result<()> {
        let kind = stage.kind;
        let mut params =
            StageParams::parse(kind, &p.raw).map_err(|e| self.field_err(stage, &p, e))?;
        let ext = params.resolve(&self.spec.base_of(stage));
        let inputs = Inputs::new(
            p.inputs
                .iter()
                .map(|(role, ids)| {
                    let planned = ids.iter().map(|&u| self.instance(u).as_input()).collect();
                    (role.as_str(), planned)
                })
                .collect(),
        );
        params
            .check_inputs(&inputs)
            .map_err(|e| self.field_err(stage, &p, e))?;
        let classes = params.classes(&inputs);

        let mut written = p.raw.clone();
        for f in &ext.files {
            remove_at(&mut written, &f.param);
        }
        let mut kb = KeyBuilder::new(&kind.to_string(), kind.version());
        for (k, v) in &written {
            if kind.param(k).is_some_and(|q| q.keyed) {
                kb = kb.param(k, v.clone());
            }
        }
        for (k, v) in ext.params {
            kb = kb.param(&k, v);
        }
        match params.precision(self.options.precision) {
            Some(pr) if pr != Precision::F32 => kb = kb.param("precision", J::from(pr.name())),
            _ => {}
        }
        let swept: Vec<String> = p
            .picked
            .iter()
            .filter_map(|(k, i)| i.map(|i| format!("{k}#{i}")))
            .collect();
        let mut identity = format!("{}|{}", stage.name, swept.join(","));
        for (role, ids) in &p.inputs {
            for (j, u) in ids.iter().enumerate() {
                let up = self.instance(*u);
                kb = kb.input(&format!("{role}.{j}"), &up.key);
                identity.push_str(&format!("|{role}.{j}={}", up.identity));
            }
            if kind.param(role).is_some_and(|q| q.shape == Shape::InputAll) {
                let labels: Vec<J> = ids
                    .iter()
                    .map(|u| labels_json(&self.instance(*u).labels))
                    .collect();
                kb = kb.param(&format!("{role}.labels"), J::Array(labels));
            }
        }
        let mut files = Vec::new();
        for f in ext.files {
            let hash = if f.path.exists() {
                let h = hashes.hash(&f.path)?;
                kb = kb.file_hashed(&f.name, &f.path, h.clone());
                Some(h)
            } else {
                let missing = J::String(f.path.display().to_string());
                kb = kb.param(&format!("missing.{}", f.name), missing);
                None
            };
            files.push(FileInput {
                name: f.name,
                param: f.param,
                path: f.path,
                hash,
            });
        }
        let (key, explanation) = kb.finish();
        let name = if p.labels.is_empty() {
            stage.name.clone()
        } else {
            format!(
                "{}[{}]",
                stage.name,
                p.labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        };
        if self.instances_of(s).any(|u| u.name == name) {
            return Err(self.spec.err(
                stage.pos,
                format!(
                    "stage `{}` has two instances named `{name}`: their results would share a \
                     log and a report cell; make the swept values distinct",
                    stage.name
                ),
            ));
        }
        let id = InstanceId(self.instances.len());
        self.instances.push(Instance {
            id,
            stage: s,
            kind,
            name,
            labels: p.labels,
            params,
            inputs: p.inputs,
            files,
            classes,
            key,
            explanation,
            identity: blake3::hash(identity.as_bytes()).to_hex()[..16].to_string(),
            picked: p.picked,
        });
        self.by_stage[s.0].push(id);
        Ok(())
    }
}
