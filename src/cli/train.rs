//! `l2tww train CONFIG.yaml`: one training run, with a progress bar (loss, accuracy, ETA) and a
//! line per epoch; the result (test accuracy at the best validation epoch) at the end. With
//! `-q`, only the result.

use super::GlobalOpts;
use crate::transfer::engine::Listener;
use crate::transfer::record::EpochRecord;
use crate::transfer::train::run as run_training;
use crate::transfer::train_config::TrainConfig;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `l2tww train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The run's YAML description.
    pub config: PathBuf,
}

struct Progress {
    bar: Option<ProgressBar>,
    loss: f64,
    acc: f64,
    n: f64,
}

impl Listener for Progress {
    fn batch(&mut self, epoch: usize, iteration: usize, of: usize, loss: f64, acc: f64) {
        let bar = self.bar.get_or_insert_with(|| {
            if crate::verbosity::quiet() {
                return ProgressBar::hidden();
            }
            let b = ProgressBar::new(of as u64);
            b.set_style(
                ProgressStyle::with_template(
                    "epoch {prefix:>3} [{bar:30}] {pos}/{len} {msg} eta {eta}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            b
        });
        if iteration == 0 {
            (self.loss, self.acc, self.n) = (0.0, 0.0, 0.0);
            bar.set_length(of as u64);
            bar.set_position(0);
            bar.set_prefix((epoch + 1).to_string());
        }
        self.loss += loss;
        self.acc += acc;
        self.n += 1.0;
        bar.set_message(format!(
            "loss {:.4} acc {:.1}%",
            self.loss / self.n,
            self.acc / self.n
        ));
        bar.inc(1);
    }

    fn epoch(&mut self, r: &EpochRecord, of: usize) {
        if crate::verbosity::quiet() {
            return;
        }
        let line = r.line(of);
        match &self.bar {
            // A hidden bar (output not a terminal: nohup, tee, CI logs) drops `println`.
            Some(b) if !b.is_hidden() => b.println(line),
            _ => println!("{line}"),
        }
    }

    fn resumed(&mut self, done: usize, of: usize) {
        if crate::verbosity::quiet() {
            return;
        }
        println!("{}", crate::transfer::engine::resumed_line(done, of));
    }
}

/// Runs the training and prints its result.
pub fn run(args: TrainArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let cfg = TrainConfig::read(&args.config)?;
    let device = global.device.resolve()?;
    let mut progress = Progress {
        bar: None,
        loss: 0.0,
        acc: 0.0,
        n: 0.0,
    };
    let summary = run_training(&cfg, device, global.precision.kind(), &mut progress)?;
    if let Some(b) = &progress.bar {
        b.finish_and_clear();
    }
    for line in summary.lambda_lines() {
        println!("{line}");
    }
    println!(
        "{}: test accuracy {:.2}% at the best validation epoch {} (val {:.2}%); seed {}; results in {}",
        summary.method, summary.test_acc, summary.best_epoch, summary.best_val_acc, summary.seed, cfg.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
