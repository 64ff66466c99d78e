//! Datasets: readers for the distribution formats (`formats`), acquisition (`acquire`,
//! `extract`, `catalog`), the Parquet store (`store`), the paper's split files (`splits`),
//! subsets (`subset`, and `selection`: the classes and per-class counts every stage that
//! selects data flattens in) and the augmenting loader (`loader`, `augment`). Imports only `error`,
//! `fsx` and `device`; never `models`, `transfer` or `cli`.
//!
//! The API later stages use:
//! - [`prepare()`]`(&PrepareSpec) -> PreparedDataset` writes `train/val/test.parquet` atomically;
//! - [`Store::open`] reads one split (class names, labels, images);
//! - [`Subset`] (`all`, `per_class`, `classes`, `restrict_per_class`, JSON `save`/`load`);
//! - [`Loader::new`]`(store, &subset, LoaderConfig)` and `loader.epoch(e)` yield [`Batch`]es.
//!
//! ```ignore
//! use l2tww::data::{Augment, Loader, LoaderConfig, Store, Subset};
//! let store = std::sync::Arc::new(Store::open("data/cifar100/train.parquet".as_ref())?);
//! let sub = Subset::per_class(&store.labels, 50, 0, &store.classes)?; // nested in the 100
//! let cfg = LoaderConfig { batch: 64, augment: Augment::Cifar32, seed: 1, ..Default::default() };
//! let loader = Loader::new(store, &sub, cfg)?;
//! for epoch in 0..10 {
//!     for batch in loader.epoch(epoch) {
//!         let b = batch?; // b.x: (N, 3, 32, 32) f32, b.y: (N,) i64
//!     }
//! }
//! ```
pub mod acquire;
pub mod augment;
pub mod catalog;
pub mod extract;
pub mod formats;
pub mod grid;
pub mod loader;
pub mod prepare;
pub mod rng;
pub mod sample;
pub mod selection;
pub mod splits;
pub mod store;
pub mod subset;

pub use augment::Augment;
pub use catalog::DatasetName;
pub use loader::{Batch, Loader, LoaderConfig};
pub use prepare::{prepare, PrepareSpec, PreparedDataset, Source};
pub use selection::{Batching, Selection};
pub use store::{Image, Store};
pub use subset::Subset;
