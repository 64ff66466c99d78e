//! Shared helpers: running the built binary and locating the reference directory.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The reference directory beside the checkout, if present.
pub fn reference_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference");
    dir.join("resnet32_tinyimagenet.safetensors")
        .exists()
        .then_some(dir)
}

/// Runs `l2tww` with `args` and returns its output.
pub fn l2tww(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_l2tww"))
        .args(args)
        .output()
        .expect("the l2tww binary runs")
}

/// Stdout and stderr of an output, as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
