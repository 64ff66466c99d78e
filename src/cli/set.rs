//! `--set STAGE.PARAM=VALUE`, shared by the subcommands that plan a pipeline (`run`, `status`,
//! `show`, `dag`, `runs`, `cancel`).

use crate::pipeline::overrides::Override;
use clap::Args;

/// The `--set` overrides of a command line.
#[derive(Debug, Args, Clone, Default)]
pub struct SetArgs {
    /// Override a parameter for this invocation, as editing the file would (same cache key);
    /// the value is YAML; repeatable. E.g. --set target.optim.lr=0.1
    #[arg(long = "set", value_name = "STAGE.PARAM=VALUE")]
    pub set: Vec<String>,
}

impl SetArgs {
    /// The overrides, parsed.
    pub fn overrides(&self) -> anyhow::Result<Vec<Override>> {
        Ok(self
            .set
            .iter()
            .map(String::as_str)
            .map(Override::parse)
            .collect::<crate::Result<_>>()?)
    }
}
