//! Readers, one per distribution format: IDX (MNIST, Fashion-MNIST), CIFAR binary, STL-10
//! binary, and the image-file datasets (TinyImageNet, CUB-200, Stanford Dogs, MIT Indoor-67,
//! Stanford 40, ImageFolder). Each returns a [`crate::data::sample::RawDataset`].
pub mod cifar;
pub mod folders;
pub mod idx;
pub mod listed;
pub mod matlab;
pub mod stl10;
