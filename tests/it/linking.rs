//! The binary must really link libtorch_cuda (not dropped by --as-needed), and run without any
//! library path set by hand (rpath).

use crate::util::{l2tww, text};
use std::process::Command;

#[test]
fn the_binary_lists_libtorch_cuda_among_its_needed_libraries() {
    let lib = l2tww::LIBTORCH_LIB.expect("build.rs records libtorch's directory");
    if !std::path::Path::new(lib).join("libtorch_cuda.so").exists() {
        eprintln!("libtorch at {lib} has no CUDA build; nothing to check");
        return;
    }
    let out = Command::new("readelf")
        .args(["-d", env!("CARGO_BIN_EXE_l2tww")])
        .output()
        .expect("readelf runs");
    let dynamic = String::from_utf8_lossy(&out.stdout);
    assert!(
        dynamic.contains("[libtorch_cuda.so]"),
        "libtorch_cuda.so is not NEEDED:\n{dynamic}"
    );
    assert!(
        dynamic.contains(lib),
        "no rpath/runpath to {lib}:\n{dynamic}"
    );
}

#[test]
fn the_binary_runs_without_a_library_path_and_reports_its_device() {
    let out = Command::new(env!("CARGO_BIN_EXE_l2tww"))
        .args(["info", "--device", "cpu"])
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("device: cpu"), "{stdout}");
    // With no library path, the libtorch loaded is the one the build recorded.
    let lib = l2tww::LIBTORCH_LIB.expect("build.rs records libtorch's directory");
    let lib = std::path::Path::new(lib).canonicalize().unwrap();
    assert!(
        stdout.contains(&format!("libtorch loaded from: {}\n", lib.display())),
        "{stdout}"
    );
}

#[test]
fn asking_for_a_cuda_device_that_is_absent_is_a_clear_error() {
    if tch::Cuda::device_count() > 0 {
        return;
    }
    let out = l2tww(&["info", "--device", "cuda:0"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("cuda:0") && stderr.contains("--device cpu"),
        "{stderr}"
    );
}
