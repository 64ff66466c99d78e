//! The `l2tww` binary: parse the command line, run it, and on error print the error chain and
//! exit 2. A closed standard output (`l2tww runs … | head -1`) ends the program quietly, as it
//! ends other Unix tools.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    keep_freed_memory();
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

/// Libtorch allocates every activation and gradient with `malloc`; glibc hands blocks above a
/// few hundred KiB back to the kernel when they are freed (`munmap`, heap trimming), so each
/// training step faults the same pages in again and the kernel zeroes them: a tenth of a CPU
/// training run, measured with `perf`. Serving blocks up to 1 GiB from the heap and never
/// trimming it keeps freed memory for the next step; the peak resident size stays what it was.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called in `main` before any allocation by another thread; both are documented
    // mallopt parameters and the values lie within their accepted ranges.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}
