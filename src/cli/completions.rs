//! `l2tww completions SHELL`: the shell completion script for l2tww's subcommands and options,
//! written to standard output by `clap_complete`.

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::process::ExitCode;

/// Arguments of `l2tww completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    pub shell: Shell,
}

/// Prints the completion script.
pub fn run(a: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = super::Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "l2tww", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
