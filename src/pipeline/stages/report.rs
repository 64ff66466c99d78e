//! `report`: placeholder until the report library lands.
use super::Ctx;
use crate::error::{Error, Result};
use serde_json::{Map, Value};

pub fn check(_params: &Map<String, Value>) -> Result<(), (Vec<String>, String)> {
    Ok(())
}

pub fn run(_ctx: &mut Ctx) -> Result<Value> {
    Err(Error::Invalid("report is not wired yet".into()))
}

/// Files a report writes.
pub fn report_files() -> &'static [&'static str] {
    &[]
}
