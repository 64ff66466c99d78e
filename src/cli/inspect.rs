//! `l2tww inspect FILE.safetensors`: tensor names, shapes and dtypes, the parameter count, the
//! architecture it is recognised as, and the file's metadata.

use crate::models::{weights::WeightFile, Arch};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `l2tww inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The safetensors file.
    pub file: PathBuf,
}

/// Prints the file's contents.
pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let file = WeightFile::read(&args.file)?;
    let mut total = 0i64;
    let mut buffers = 0i64;
    for (name, t) in &file.tensors {
        let n = t.numel() as i64;
        if name.ends_with("running_mean")
            || name.ends_with("running_var")
            || name.ends_with("num_batches_tracked")
        {
            buffers += n;
        } else {
            total += n;
        }
        println!(
            "{name:<40} {:<10} {:?}",
            format!("{:?}", t.kind()),
            t.size()
        );
    }
    println!("tensors: {}", file.tensors.len());
    println!("parameters: {total} (plus {buffers} batch-norm buffer values)");
    match Arch::infer(&file.tensors) {
        Ok((arch, classes)) => println!("architecture: {arch} with {classes} classes"),
        Err(_) => println!("architecture: not a model of the zoo"),
    }
    if file.metadata.is_empty() {
        println!("metadata: none");
    } else {
        println!("metadata:");
        for (k, v) in &file.metadata {
            println!("  {k}: {v}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
