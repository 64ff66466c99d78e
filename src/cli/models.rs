//! `l2tww models [ARCH]`: the zoo, or one architecture's taps with channels and spatial sizes.

use super::GlobalOpts;
use crate::models::{zoo::ARCH_NAMES, Arch, Model};
use clap::Args;
use std::process::ExitCode;
use tch::Device;

/// Arguments of `l2tww models`.
#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// An architecture to describe (e.g. resnet32, vgg9-bn, resnet34).
    pub arch: Option<Arch>,
    /// Input resolution for the spatial sizes (default: the architecture's own, 32 or 224).
    #[arg(long)]
    pub input: Option<i64>,
    /// Number of classes.
    #[arg(long, default_value_t = 10)]
    pub classes: i64,
}

/// Prints the zoo or one architecture.
pub fn run(args: ModelsArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let Some(arch) = args.arch else {
        for name in ARCH_NAMES {
            println!("{name}");
        }
        return Ok(ExitCode::SUCCESS);
    };
    let model = Model::new(arch, args.classes, Device::Cpu, global.precision.kind())?;
    let params: i64 = model
        .vs
        .trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum();
    let input = args.input.unwrap_or(arch.native_input());
    println!(
        "{arch}: {params} parameters, {} classes, taps at {input}x{input}:",
        args.classes
    );
    println!("{}", model.net.describe_taps(input));
    Ok(ExitCode::SUCCESS)
}
