//! Link-time settings for libtorch: an rpath to the libtorch that tch was built against (so the
//! binary runs without LD_LIBRARY_PATH), and libtorch_cuda linked with `--no-as-needed` so that
//! CUDA is really available where a GPU is present (with `--as-needed`, the default on Debian,
//! the linker drops libtorch_cuda because no symbol of it is referenced directly).
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    let lib = PathBuf::from(lib);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    println!("cargo:rustc-env=L2TWW_LIBTORCH_LIB={}", lib.display());
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-search=native={}", lib.display());
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
