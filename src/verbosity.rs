//! How much the command line prints, set once from `-q` / `-v` and read where lines are
//! printed: quiet prints only errors and results (no progress bars, no per-instance lines, no
//! notes), verbose adds detail (cache keys, the instances found fresh). A leaf: imports nothing
//! from the crate.

use std::sync::atomic::{AtomicU8, Ordering};

/// How much is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Verbosity {
    /// Errors and results only (`-q`).
    Quiet,
    /// Progress and what happens, the default.
    #[default]
    Normal,
    /// More detail (`-v`).
    Verbose,
}

static LEVEL: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);

/// Sets the process's verbosity.
pub fn set(v: Verbosity) {
    LEVEL.store(v as u8, Ordering::Relaxed);
}

/// The process's verbosity.
pub fn get() -> Verbosity {
    match LEVEL.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        2 => Verbosity::Verbose,
        _ => Verbosity::Normal,
    }
}

/// Whether only errors and results are printed.
pub fn quiet() -> bool {
    get() == Verbosity::Quiet
}

/// Whether more detail is printed.
pub fn verbose() -> bool {
    get() == Verbosity::Verbose
}
