//! Outputs follow the user's umask: a cache shared by a group (or a Slurm cluster's nodes) must
//! not hold owner-only entries because the files went through temporary names.

use crate::pipeline::{yaml, Project};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Every file and folder under `root` with its permission bits.
fn modes(root: &Path, out: &mut Vec<(String, u32, bool)>) {
    for e in std::fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        out.push((
            p.display().to_string(),
            meta.permissions().mode() & 0o777,
            meta.is_dir(),
        ));
        if meta.is_dir() {
            modes(&p, out);
        }
    }
}

#[test]
fn cache_entries_and_results_are_group_writable_under_umask_002() {
    let p = Project::new(&yaml(1, "[0]", 8));
    // The same binary and arguments as `Project::cmd`, started by a shell that sets the umask.
    let bin = env!("CARGO_BIN_EXE_l2tww");
    let out = std::process::Command::new("sh")
        .current_dir(p.dir.path())
        .env_remove("L2TWW_CACHE")
        .args(["-c", "umask 002 && exec \"$0\" \"$@\"", bin])
        .args([
            "--threads",
            "1",
            "run",
            "pipelines/p.yaml",
            "--only",
            "src-data",
        ])
        .output()
        .unwrap();
    let (o, e) = crate::util::text(&out);
    assert!(out.status.success(), "{o}{e}");
    let mut all = Vec::new();
    modes(&p.dir.path().join("cache/v1/entries"), &mut all);
    assert!(all.iter().filter(|(_, _, d)| !d).count() >= 4, "{all:?}");
    for (path, mode, dir) in &all {
        let want = if *dir { 0o775 } else { 0o664 };
        assert_eq!(*mode, want, "{path}: {mode:o}");
    }
}
