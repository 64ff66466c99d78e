//! The datasets l2tww knows: their names, canonical download URLs with published checksums, and
//! known system locations. Checksums marked "not re-verified" are published values quoted from
//! memory of torchvision's and the authors' pages; they could not be checked offline here. Where
//! no checksum is published, the entry says `Unknown` and the first download records its blake3.
use crate::data::acquire::{Checksum, RemoteFile};
use crate::error::{Error, Result};
use std::path::PathBuf;
use std::str::FromStr;

/// A dataset l2tww can prepare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetName {
    /// Fashion-MNIST (IDX).
    FashionMnist,
    /// MNIST (IDX).
    Mnist,
    /// CIFAR-10, binary version.
    Cifar10,
    /// CIFAR-100, binary version (fine labels).
    Cifar100,
    /// STL-10 binary (train and test).
    Stl10,
    /// TinyImageNet-200.
    TinyImageNet,
    /// CUB-200-2011.
    Cub200,
    /// Stanford Dogs.
    Dogs,
    /// MIT Indoor-67.
    Indoor67,
    /// Stanford 40 Actions.
    Stanford40,
    /// A generic ImageFolder (one folder per class).
    ImageFolder,
}

/// Every name accepted on the command line, in order.
pub const NAMES: [&str; 11] = [
    "fashion-mnist",
    "mnist",
    "cifar10",
    "cifar100",
    "stl10",
    "tinyimagenet",
    "cub200",
    "dogs",
    "indoor67",
    "stanford40",
    "imagefolder",
];

impl FromStr for DatasetName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        use DatasetName::*;
        let all = [
            FashionMnist,
            Mnist,
            Cifar10,
            Cifar100,
            Stl10,
            TinyImageNet,
            Cub200,
            Dogs,
            Indoor67,
            Stanford40,
            ImageFolder,
        ];
        NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| all[i])
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown dataset `{s}`: use one of {}",
                    NAMES.join(", ")
                ))
            })
    }
}

impl std::fmt::Display for DatasetName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(NAMES[*self as usize])
    }
}

fn remote(url: &str, checksum: Checksum) -> RemoteFile {
    let file_name = url.rsplit('/').next().unwrap_or(url).to_string();
    RemoteFile {
        url: url.to_string(),
        file_name,
        checksum,
    }
}

fn md5(h: &str) -> Checksum {
    Checksum::Md5(h.to_string())
}

impl DatasetName {
    /// Where a system package puts the dataset, if anywhere (Debian's `dataset-fashion-mnist`).
    pub fn system_location(self) -> Option<PathBuf> {
        match self {
            DatasetName::FashionMnist => Some(PathBuf::from("/usr/share/datasets/fashion-mnist")),
            _ => None,
        }
    }

    /// The number of classes of the dataset, when fixed by its definition (an ImageFolder's is
    /// whatever its folders hold).
    pub fn num_classes(self) -> Option<usize> {
        use DatasetName::*;
        Some(match self {
            FashionMnist | Mnist | Cifar10 | Stl10 => 10,
            Cifar100 => 100,
            TinyImageNet | Cub200 => 200,
            Dogs => 120,
            Indoor67 => 67,
            Stanford40 => 40,
            ImageFolder => return None,
        })
    }

    /// The paper's split-file prefix (`<prefix>-train.json` …), for the datasets that have one.
    pub fn split_prefix(self) -> Option<&'static str> {
        match self {
            DatasetName::Cifar100 => Some("cifar100"),
            DatasetName::Stl10 => Some("stl10"),
            DatasetName::Cub200 => Some("cub200"),
            DatasetName::Dogs => Some("dog"),
            _ => None,
        }
    }

    /// The canonical download: the files and their published checksums.
    pub fn remote_files(self) -> Vec<RemoteFile> {
        use DatasetName::*;
        match self {
            // md5s as published by torchvision's MNIST/FashionMNIST classes (not re-verified).
            Mnist => [
                (
                    "train-images-idx3-ubyte.gz",
                    "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                ),
                (
                    "train-labels-idx1-ubyte.gz",
                    "d53e105ee54ea40749a09fcbcd1e9432",
                ),
                (
                    "t10k-images-idx3-ubyte.gz",
                    "9fb629c4189551a2d022fa330f9573f3",
                ),
                (
                    "t10k-labels-idx1-ubyte.gz",
                    "ec29112dd5afa0611ce80d1b7f02629c",
                ),
            ]
            .iter()
            .map(|(f, h)| {
                remote(
                    &format!("https://ossci-datasets.s3.amazonaws.com/mnist/{f}"),
                    md5(h),
                )
            })
            .collect(),
            FashionMnist => [
                (
                    "train-images-idx3-ubyte.gz",
                    "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                ),
                (
                    "train-labels-idx1-ubyte.gz",
                    "25c81989df183df01b3e8a0aad5dffbe",
                ),
                (
                    "t10k-images-idx3-ubyte.gz",
                    "bef4ecab320f06d8554ea6380940ec79",
                ),
                (
                    "t10k-labels-idx1-ubyte.gz",
                    "bb300cfdad3c16e7a12a480ee83cd310",
                ),
            ]
            .iter()
            .map(|(f, h)| {
                remote(
                    &format!("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{f}"),
                    md5(h),
                )
            })
            .collect(),
            // md5s listed on https://www.cs.toronto.edu/~kriz/cifar.html (not re-verified).
            Cifar10 => vec![remote(
                "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
                md5("c32a1d4ab5d03f1284b67883e8d87530"),
            )],
            Cifar100 => vec![remote(
                "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
                md5("03b5dce01913d631647c71ecec9e9cb8"),
            )],
            // torchvision's STL10 tgz_md5 (not re-verified).
            Stl10 => vec![remote(
                "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
                md5("91f7769df0f17e558f3565bffb0c7dfb"),
            )],
            // The widely quoted md5 of the cs231n zip (not re-verified; no official page lists one).
            TinyImageNet => vec![remote(
                "http://cs231n.stanford.edu/tiny-imagenet-200.zip",
                md5("90528d7ca1a48142e341f4ef8d21d0de"),
            )],
            // md5 as used by several dataset libraries for the CaltechDATA record (not re-verified).
            Cub200 => vec![remote(
                "https://data.caltech.edu/records/65de6-vp158/files/CUB_200_2011.tgz",
                md5("97eceeb196236b17998738112f37df78"),
            )],
            // No published checksums for these: the first download records the blake3.
            Dogs => vec![
                remote(
                    "http://vision.stanford.edu/aditya86/ImageNetDogs/images.tar",
                    Checksum::Unknown,
                ),
                remote(
                    "http://vision.stanford.edu/aditya86/ImageNetDogs/lists.tar",
                    Checksum::Unknown,
                ),
            ],
            Indoor67 => vec![
                remote(
                    "http://groups.csail.mit.edu/vision/LabelMe/NewImages/indoorCVPR_09.tar",
                    Checksum::Unknown,
                ),
                remote(
                    "https://web.mit.edu/torralba/www/TrainImages.txt",
                    Checksum::Unknown,
                ),
                remote(
                    "https://web.mit.edu/torralba/www/TestImages.txt",
                    Checksum::Unknown,
                ),
            ],
            Stanford40 => vec![
                remote(
                    "http://vision.stanford.edu/Datasets/Stanford40_JPEGImages.zip",
                    Checksum::Unknown,
                ),
                remote(
                    "http://vision.stanford.edu/Datasets/Stanford40_ImageSplits.zip",
                    Checksum::Unknown,
                ),
            ],
            ImageFolder => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_and_unknown_names_list_the_choices() {
        for n in NAMES {
            assert_eq!(n.parse::<DatasetName>().unwrap().to_string(), n);
        }
        let err = "cifar".parse::<DatasetName>().unwrap_err().to_string();
        assert!(err.contains("cifar100"), "{err}");
    }
}
