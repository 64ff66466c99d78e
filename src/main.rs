//! The `l2tww` binary: parse the command line, run it, and on error print the error chain and
//! exit 2.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = l2tww::cli::Cli::parse();
    match l2tww::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
