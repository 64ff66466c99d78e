//! The "Examples:" block at the end of each subcommand's `--help`: a few command lines to copy,
//! each with what it does.

/// `l2tww run`.
pub const RUN: &str = "\
Examples:
  l2tww run pipelines/limited-data.yaml -j 2       run every stale stage, two at a time
  l2tww run pipelines/limited-data.yaml --dry-run  say what would run
  l2tww run pipelines/limited-data.yaml --only source --force source
  l2tww run pipelines/limited-data.yaml --set target.optim.lr=0.1 --set target.seed=[0,1]
  l2tww -q run pipelines/multi-source.yaml         only errors and results";

/// `l2tww runs`.
pub const RUNS: &str = "\
Examples:
  l2tww runs pipelines/limited-data.yaml
  l2tww runs pipelines/limited-data.yaml --only-changed --sort-by test_acc
  l2tww runs pipelines/limited-data.yaml --csv > runs.csv";

/// `l2tww status`.
pub const STATUS: &str = "\
Examples:
  l2tww status pipelines/limited-data.yaml
  l2tww status pipelines/limited-data.yaml --check || l2tww run pipelines/limited-data.yaml
  l2tww -v status pipelines/limited-data.yaml --set target.optim.epochs=2   with cache keys";

/// `l2tww dag`.
pub const DAG: &str = "\
Examples:
  l2tww dag pipelines/limited-data.yaml
  l2tww dag pipelines/limited-data.yaml --instances
  l2tww dag pipelines/limited-data.yaml --dot | dot -Tpng > dag.png";

/// `l2tww show`.
pub const SHOW: &str = "\
Examples:
  l2tww show pipelines/limited-data.yaml source
  l2tww show pipelines/limited-data.yaml target --set target.optim.lr=0.1";

/// `l2tww cancel`.
pub const CANCEL: &str = "\
Examples:
  l2tww cancel pipelines/limited-data.yaml";

/// `l2tww gc`.
pub const GC: &str = "\
Examples:
  l2tww gc --dry-run                 list what no pipeline in pipelines/ reaches
  l2tww gc --pipelines studies/ --cache /scratch/l2tww-cache";

/// `l2tww data`.
pub const DATA: &str = "\
Examples:
  l2tww data prepare fashion-mnist --out data/fashion
  l2tww data prepare cifar10 --download --out data/cifar10
  l2tww data subset data/fashion/train.parquet --classes 5,6,7 --per-class 50 --out sub.json
  l2tww data show data/fashion/train.parquet --png grid.png";

/// `l2tww train`.
pub const TRAIN: &str = "\
Examples:
  l2tww train run.yaml
  l2tww --device cuda:0 --precision f64 train run.yaml";

/// `l2tww stats`.
pub const STATS: &str = "\
Examples:
  l2tww stats source.safetensors --data data/fashion/train.parquet --classes 5,6,7,8,9 \\
      --per-class 50 --out stats/";

/// `l2tww models`.
pub const MODELS: &str = "\
Examples:
  l2tww models                  the zoo
  l2tww models resnet32         its feature taps and their sizes
  l2tww models vgg9-bn --input 64";

/// `l2tww inspect`.
pub const INSPECT: &str = "\
Examples:
  l2tww inspect cache/entries/<key>/out/model.safetensors";

/// `l2tww info`.
pub const INFO: &str = "\
Examples:
  l2tww info
  l2tww --device cuda info --device-only    prints cpu or cuda:N, for scripts";

/// `l2tww bench`.
pub const BENCH: &str = "\
Examples:
  l2tww bench --batch 32 --iters 10
  l2tww bench loader
  l2tww bench fidelity ../shared/reference";

/// `l2tww conformance`.
pub const CONFORMANCE: &str = "\
Examples:
  l2tww conformance ../shared/reference
  l2tww -v conformance ../shared/reference    every compared group of each case";

/// `l2tww completions`.
pub const COMPLETIONS: &str = "\
Examples:
  l2tww completions bash > ~/.local/share/bash-completion/completions/l2tww
  l2tww completions zsh > ~/.zfunc/_l2tww        (with fpath+=~/.zfunc in ~/.zshrc)
  l2tww completions fish > ~/.config/fish/completions/l2tww.fish";
