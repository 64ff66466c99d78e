//! The `l2tww` binary: parse the command line, run it, and on error print the error chain and
//! exit 2. A closed standard output (`l2tww runs … | head -1`) ends the program quietly, as it
//! ends other Unix tools.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = l2tww::cli::Cli::parse();
    match l2tww::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
            eprintln!("error: {}", chain[0]);
            for cause in l2tww::error::new_causes(&chain) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}

/// Rust ignores SIGPIPE, so a write to a closed pipe is an error that `println!` turns into a
/// panic (exit 101); the default action ends the process quietly instead.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first in `main`, before any other thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
