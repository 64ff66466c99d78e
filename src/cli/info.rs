//! `l2tww info`: which libtorch the binary uses, whether it has CUDA, and what `--device`
//! resolves to — the first thing to check on a GPU machine.

use super::GlobalOpts;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `l2tww info`.
#[derive(clap::Args, Debug)]
pub struct InfoArgs {
    /// Print only what `--device` resolves to (`cpu` or `cuda:N`), for scripts.
    #[arg(long)]
    pub device_only: bool,
}

/// Prints build and device facts.
pub fn run(args: InfoArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    if args.device_only {
        match global.device.resolve()? {
            tch::Device::Cuda(n) => println!("cuda:{n}"),
            _ => println!("cpu"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!("l2tww {}", crate::VERSION);
    println!(
        "libtorch: {} ({})",
        crate::LIBTORCH_VERSION,
        crate::LIBTORCH_LIB.unwrap_or("location unknown")
    );
    if let Some(loaded) = loaded_libtorch_dir() {
        let same = crate::LIBTORCH_LIB
            .and_then(|built| Path::new(built).canonicalize().ok())
            .is_some_and(|built| built == loaded);
        let note = if same {
            ""
        } else {
            " — not the one built against (LD_LIBRARY_PATH?): its version must match"
        };
        println!("libtorch loaded from: {}{note}", loaded.display());
    }
    println!("cuda available: {}", tch::Cuda::is_available());
    println!("cuda devices: {}", tch::Cuda::device_count());
    println!("cudnn available: {}", tch::Cuda::cudnn_is_available());
    let device = global.device.resolve()?;
    println!("device: {}", crate::device::describe(device));
    if device != tch::Device::Cpu {
        let x = tch::Tensor::randn([256, 256], (global.precision.kind(), device));
        let y = x.matmul(&x).sum(global.precision.kind());
        println!("matmul check on {:?}: {:.4}", device, f64::try_from(y)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// The folder of the `libtorch_cpu.so` this process has loaded, read from `/proc/self/maps`
/// (`None` off Linux or when it cannot be read).
fn loaded_libtorch_dir() -> Option<PathBuf> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| path.ends_with("/libtorch_cpu.so"))
        .and_then(|path| Path::new(path).parent().map(Path::to_path_buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loaded_libtorch_is_found_where_it_was_built() {
        // Tests run with the rpath the build set, so the folder is the build's.
        let _ = tch::Tensor::zeros([1], (tch::Kind::Float, tch::Device::Cpu));
        let loaded = loaded_libtorch_dir().expect("libtorch_cpu.so among the mapped files");
        assert!(
            loaded.join("libtorch_cpu.so").is_file(),
            "{}",
            loaded.display()
        );
        if std::env::var_os("LD_LIBRARY_PATH").is_none() {
            let built = crate::LIBTORCH_LIB.expect("the build records its libtorch");
            assert_eq!(loaded, Path::new(built).canonicalize().unwrap());
        }
    }
}
