//! MNIST and Fashion-MNIST in the IDX format (`train-images-idx3-ubyte[.gz]`, …), gzipped or raw.
//! Byte offsets in errors for gzipped files are offsets in the decompressed stream.
use crate::data::sample::{Encoding, RawDataset, Sample, SplitData};
use crate::error::{Error, Result};
use crate::fsx;
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The class names of Fashion-MNIST, in label order.
pub const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// An IDX array: its dimensions and its uint8 data.
#[derive(Debug)]
pub struct IdxArray {
    /// Dimension sizes, outermost first.
    pub dims: Vec<usize>,
    /// The data, row-major.
    pub data: Vec<u8>,
}

/// Reads the bytes of `path`, decompressing it if it is gzipped (by its magic bytes).
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = fsx::read(path)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| {
                Error::format(
                    path,
                    out.len() as u64,
                    format!("corrupt or truncated gzip stream ({e}); download the file again"),
                )
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Reads an unsigned-byte IDX file (magic 0x0000 08 NN).
pub fn read_idx(path: &Path) -> Result<IdxArray> {
    let bytes = read_maybe_gz(path)?;
    if bytes.len() < 4 {
        return Err(Error::format(
            path,
            bytes.len() as u64,
            "file ends inside the IDX magic number; the file is truncated",
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 {
        return Err(Error::format(
            path,
            0,
            format!(
                "wrong magic number {:02x}{:02x}{:02x}{:02x}: not an unsigned-byte IDX file (expected 000008NN)",
                bytes[0], bytes[1], bytes[2], bytes[3]
            ),
        ));
    }
    let ndims = bytes[3] as usize;
    let header = 4 + 4 * ndims;
    if ndims == 0 || bytes.len() < header {
        return Err(Error::format(
            path,
            3,
            format!(
                "bad IDX header: {ndims} dimensions in a {}-byte file",
                bytes.len()
            ),
        ));
    }
    let dims: Vec<usize> = (0..ndims)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    let want = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| {
            Error::format(
                path,
                4,
                format!("dimensions {dims:?} are too large; the header is corrupt"),
            )
        })?;
    let have = bytes.len() - header;
    if have != want {
        return Err(Error::format(
            path,
            bytes.len() as u64,
            format!("the header's dimensions {dims:?} need {want} data bytes but the file has {have}; the file is truncated or corrupt"),
        ));
    }
    let data = bytes[header..].to_vec();
    Ok(IdxArray { dims, data })
}

/// Finds `{stem}` or `{stem}.gz` in `dir`.
fn find(dir: &Path, stem: &str) -> Result<PathBuf> {
    for name in [format!("{stem}.gz"), stem.to_string()] {
        let p = dir.join(&name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(Error::bad_file(
        dir,
        format!("missing {stem}[.gz]: point to the folder holding the four IDX files"),
    ))
}

/// Reads one split (`train` or `t10k`) from `dir`.
fn read_split(
    dir: &Path,
    prefix: &str,
    name: &str,
    classes: usize,
    sources: &mut Vec<PathBuf>,
) -> Result<SplitData> {
    let ipath = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let lpath = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let images = read_idx(&ipath)?;
    let labels = read_idx(&lpath)?;
    if images.dims.len() != 3 {
        return Err(Error::format(
            &ipath,
            3,
            format!(
                "expected 3 dimensions (count, rows, cols), found {:?}",
                images.dims
            ),
        ));
    }
    if labels.dims.len() != 1 || labels.dims[0] != images.dims[0] {
        return Err(Error::format(
            &lpath,
            4,
            format!(
                "{} labels for {} images in {}",
                labels.dims.first().unwrap_or(&0),
                images.dims[0],
                ipath.display()
            ),
        ));
    }
    let (h, w) = (images.dims[1], images.dims[2]);
    let mut samples = Vec::with_capacity(images.dims[0]);
    for (i, &label) in labels.data.iter().enumerate() {
        if label as usize >= classes {
            return Err(Error::format(
                &lpath,
                8 + i as u64,
                format!("label {label} out of range 0..{classes}"),
            ));
        }
        samples.push(Sample {
            index: i as u64,
            label: label as i64,
            height: h as u32,
            width: w as u32,
            channels: 1,
            encoding: Encoding::Raw,
            bytes: images.data[i * h * w..(i + 1) * h * w].to_vec(),
        });
    }
    sources.push(ipath);
    sources.push(lpath);
    Ok(SplitData {
        name: name.into(),
        samples,
        files_blake3: None,
    })
}

/// Reads MNIST or Fashion-MNIST (`fashion` picks the class names) from `dir`.
pub fn read(dir: &Path, fashion: bool) -> Result<RawDataset> {
    let classes: Vec<String> = if fashion {
        FASHION_CLASSES.iter().map(|s| s.to_string()).collect()
    } else {
        (0..10).map(|d| d.to_string()).collect()
    };
    let mut sources = Vec::new();
    let train = read_split(dir, "train", "train", classes.len(), &mut sources)?;
    let test = read_split(dir, "t10k", "test", classes.len(), &mut sources)?;
    Ok(RawDataset {
        classes,
        splits: vec![train, test],
        sources,
    })
}
