//! `l2tww info`: which libtorch the binary uses, whether it has CUDA, and what `--device`
//! resolves to — the first thing to check on a GPU machine.

use super::GlobalOpts;
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
