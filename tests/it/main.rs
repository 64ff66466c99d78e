//! One integration-test binary: the CLI end to end, datasets (formats, downloads, store, loader), weights, the zoo, and conformance against
//! the official code's reference tensors (when ../shared/reference is present).

mod data_gen;
mod util;

mod bench_iteration;
mod cache;
mod cli_conventions;
mod cli_failures;
mod conformance;
mod data_download;
mod data_errors;
mod data_formats;
mod data_golden;
mod data_loader;
mod data_store;
mod dry_run_checks;
mod engine;
mod engine_eval;
mod issue13;
mod issue13_resume;
mod l2t_step;
mod linking;
mod meta;
mod outputs_mode;
mod pipeline;
mod pipeline_include;
mod pipeline_labels;
mod pipeline_runs;
mod replicates;
mod report;
mod report_page;
mod report_paired;
mod report_sources;
mod slurm;
mod source_stats;
mod train;
mod weights;
mod zoo;
