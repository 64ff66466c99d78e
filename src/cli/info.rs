//! `l2tww info`: which libtorch the binary uses, whether it has CUDA, and what `--device`
//! resolves to — the first thing to check on a GPU machine.

use super::GlobalOpts;
use std::process::ExitCode;

/// Prints build and device facts.
pub fn run(global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    println!("l2tww {}", env!("CARGO_PKG_VERSION"));
    println!("libtorch: {}", crate::LIBTORCH_LIB.unwrap_or("(unknown)"));
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
