//! `source-stats`: placeholder until the statistics library lands.
use super::Ctx;
use crate::error::{Error, Result};
use serde_json::{Map, Value};

pub fn check(_params: &Map<String, Value>) -> Result<(), (Vec<String>, String)> {
    Ok(())
}

pub fn run(_ctx: &mut Ctx) -> Result<Value> {
    Err(Error::Invalid("source-stats is not wired yet".into()))
}
