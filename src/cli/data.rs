//! `l2tww data prepare|subset|show`: datasets into Parquet, subsets as index lists, and a look
//! at a prepared split (counts per class and a PNG grid of samples).
use crate::data::catalog::DatasetName;
use crate::data::grid::write_grid;
use crate::data::{prepare, PrepareSpec, Source, Store, Subset};
use crate::error::Error;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `l2tww data`.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: DataCommand,
}

/// The `data` subcommands.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Read a dataset from its distribution format and write train/val/test Parquet files.
    Prepare(PrepareArgs),
    /// Choose a subset of a split (classes, N per class) and write it as a JSON index list.
    Subset(SubsetArgs),
    /// Print a split's counts per class and write a PNG grid of samples.
    Show(ShowArgs),
}

/// Arguments of `l2tww data prepare`.
#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// fashion-mnist, mnist, cifar10, cifar100, stl10, tinyimagenet, cub200, dogs, indoor67,
    /// stanford40 or imagefolder.
    pub dataset: DatasetName,
    /// Output folder for train/val/test.parquet and dataset.json.
    #[arg(long)]
    pub out: PathBuf,
    /// The dataset's folder or archive (default: the system location, else --download).
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// Download from the canonical URL (verified; resumed; skipped when already present).
    #[arg(long)]
    pub download: bool,
    /// Folder for downloads (default ~/.cache/l2tww/datasets/NAME).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Folder with the paper's split files (<prefix>-{train,val,test}.json).
    #[arg(long)]
    pub splits: Option<PathBuf>,
    /// Fraction of each class held out for validation when no split files are given.
    #[arg(long, default_value_t = 0.1)]
    pub val_fraction: f64,
    /// Seed of that validation split.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Arguments of `l2tww data subset`.
#[derive(Debug, Args)]
pub struct SubsetArgs {
    /// The split's Parquet file.
    pub file: PathBuf,
    /// Where to write the subset (JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// Keep only these class ids (comma-separated), relabelled 0.. in this order.
    #[arg(long, value_delimiter = ',')]
    pub classes: Vec<i64>,
    /// Keep N images per class (stratified, seeded, nested across N for one seed).
    #[arg(long)]
    pub per_class: Option<usize>,
    /// Seed of the per-class choice.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Arguments of `l2tww data show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The split's Parquet file.
    pub file: PathBuf,
    /// Where to write the PNG grid (default: FILE with extension .png).
    #[arg(long)]
    pub png: Option<PathBuf>,
    /// Images per class in the grid.
    #[arg(long, default_value_t = 8)]
    pub per_class: usize,
}

/// Runs `l2tww data …`.
pub fn run(args: DataArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DataCommand::Prepare(a) => run_prepare(a),
        DataCommand::Subset(a) => run_subset(a),
        DataCommand::Show(a) => run_show(a),
    }
}

fn run_prepare(a: PrepareArgs) -> anyhow::Result<ExitCode> {
    let source = match (&a.from, a.dataset.system_location()) {
        (Some(p), _) => Source::Path(p.clone()),
        (None, Some(p)) if p.is_dir() && !a.download => Source::System,
        _ if a.download => {
            let cache = a.cache.clone().unwrap_or_else(|| {
                home()
                    .join(".cache/l2tww/datasets")
                    .join(a.dataset.to_string())
            });
            Source::Download {
                cache,
                files: a.dataset.remote_files(),
            }
        }
        _ => {
            let urls: Vec<String> = a
                .dataset
                .remote_files()
                .into_iter()
                .map(|f| f.url)
                .collect();
            return Err(Error::Invalid(format!(
                "no source for {}: give --from PATH, or --download to fetch {}",
                a.dataset,
                urls.join(" ")
            ))
            .into());
        }
    };
    let spec = PrepareSpec {
        dataset: a.dataset,
        source,
        out: a.out,
        splits_dir: a.splits,
        val_fraction: a.val_fraction,
        seed: a.seed,
        progress: true,
    };
    let done = prepare(&spec)?;
    println!("{}: {} classes", a.dataset, done.classes.len());
    for (name, path, rows) in &done.splits {
        println!("{name:>5}: {rows:>7} rows  {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn run_subset(a: SubsetArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&a.file)?;
    let mut s = if a.classes.is_empty() {
        Subset::all(store.len(), "")
    } else {
        Subset::classes(&store.labels, &a.classes)?
    };
    if let Some(n) = a.per_class {
        s = s.restrict_per_class(&store.labels, n, a.seed, &store.classes)?;
    }
    s.parent = a.file.display().to_string();
    s.save(&a.out)?;
    let kept = s.classes.as_ref().map_or(store.classes.len(), Vec::len);
    println!(
        "{} rows of {} ({} classes) -> {}",
        s.indices.len(),
        store.len(),
        kept,
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_show(a: ShowArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&a.file)?;
    let counts = store.counts();
    println!(
        "{}: {} rows, {} classes",
        a.file.display(),
        store.len(),
        store.classes.len()
    );
    if let Some(first) = (!store.is_empty()).then(|| store.shape(0)) {
        println!(
            "first image: {}x{}x{} ({})",
            first.0,
            first.1,
            first.2,
            store.raw(0).1.name()
        );
    }
    for (i, (name, n)) in store.classes.iter().zip(&counts).enumerate() {
        println!("{i:>4}  {n:>7}  {name}");
    }
    if let Some(p) = store.provenance.get("selection") {
        println!("selection: {p}");
    }
    let png = a.png.unwrap_or_else(|| a.file.with_extension("png"));
    write_grid(&store, &png, a.per_class, 20, 48)?;
    println!("grid: {}", png.display());
    Ok(ExitCode::SUCCESS)
}
