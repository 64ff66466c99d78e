//! Build-time settings.
//!
//! Link-time settings for libtorch: an rpath to the libtorch that tch was built against (so the
//! binary runs without LD_LIBRARY_PATH), and libtorch_cuda linked with `--no-as-needed` so that
//! CUDA is really available where a GPU is present (with `--as-needed`, the default on Debian,
//! the linker drops libtorch_cuda because no symbol of it is referenced directly).
//!
//! What `l2tww --version` reports besides the crate's version: the git commit the binary was
//! built from (`L2TWW_GIT_COMMIT`: the short hash, `-dirty` when tracked files were modified,
//! `unknown` outside a git checkout, e.g. from a tarball) and the version of that libtorch
//! (`L2TWW_LIBTORCH_VERSION`, read from the libtorch folder; `unknown` when it cannot be found).
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    git_commit();
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB")
        .ok()
        .map(PathBuf::from);
    let version = lib
        .as_deref()
        .and_then(libtorch_version)
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=L2TWW_LIBTORCH_VERSION={version}");
    let Some(lib) = lib else {
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    println!("cargo:rustc-env=L2TWW_LIBTORCH_LIB={}", lib.display());
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-search=native={}", lib.display());
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}

/// The output of `git ARGS` in the crate's folder, trimmed; `None` when git is missing or fails.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Sets `L2TWW_GIT_COMMIT`, and asks to be run again when the commit or the sources change.
fn git_commit() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
    let Some(hash) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        println!("cargo:rustc-env=L2TWW_GIT_COMMIT=unknown");
        return;
    };
    // A new commit moves HEAD or the branch it points to; staging changes the index.
    let mut watched = vec!["HEAD".to_string(), "index".into(), "packed-refs".into()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        if let Some(p) = git(&["rev-parse", "--git-path", &name]) {
            let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(p);
            // A path that does not exist would make the script run on every build.
            if p.exists() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let suffix = if dirty { "-dirty" } else { "" };
    println!("cargo:rustc-env=L2TWW_GIT_COMMIT={hash}{suffix}");
}

/// The version of the libtorch in `lib`: a standalone libtorch's `build-version`, a PyTorch
/// package's `version.py`, else the version macros of its headers.
fn libtorch_version(lib: &Path) -> Option<String> {
    let root = lib.parent()?;
    if let Ok(v) = std::fs::read_to_string(root.join("build-version")) {
        return Some(v.trim().to_string()).filter(|v| !v.is_empty());
    }
    if let Ok(text) = std::fs::read_to_string(root.join("version.py")) {
        let v = text
            .lines()
            .find_map(|l| l.strip_prefix("__version__ = "))
            .map(|v| v.trim().trim_matches(|c| c == '\'' || c == '"').to_string());
        if v.is_some() {
            return v;
        }
    }
    let headers = [
        "include/torch/headeronly/version.h",
        "include/torch/csrc/api/include/torch/version.h",
    ];
    headers.iter().find_map(|h| {
        let text = std::fs::read_to_string(root.join(h)).ok()?;
        let part = |name: &str| {
            text.lines().find_map(|l| {
                let rest = l
                    .strip_prefix("#define TORCH_VERSION_")?
                    .strip_prefix(name)?;
                rest.trim().parse::<u32>().ok()
            })
        };
        Some(format!(
            "{}.{}.{}",
            part("MAJOR")?,
            part("MINOR")?,
            part("PATCH")?
        ))
    })
}
