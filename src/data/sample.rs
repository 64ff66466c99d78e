//! What a reader produces: samples (label + image, raw HWC uint8 or the original encoded bytes),
//! splits of samples, and a dataset (class names, splits, source files). Owns no I/O except the
//! header probe and decode of encoded images.
use crate::error::{Error, Result};
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// Images at most this many pixels on their longer side are stored decoded (raw HWC uint8);
/// larger encoded images keep their original bytes.
pub const RAW_MAX_SIDE: u32 = 64;

/// How a sample's image bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Raw pixels, height × width × channels, uint8, row-major.
    Raw,
    /// A JPEG file's bytes.
    Jpeg,
    /// A PNG file's bytes.
    Png,
}

impl Encoding {
    /// The name stored in the Parquet `encoding` column.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Raw => "raw",
            Encoding::Jpeg => "jpeg",
            Encoding::Png => "png",
        }
    }

    /// Parses a stored encoding name.
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "raw" => Some(Encoding::Raw),
            "jpeg" => Some(Encoding::Jpeg),
            "png" => Some(Encoding::Png),
            _ => None,
        }
    }
}

/// One labelled image.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Position in the source split, in the dataset's standard order.
    pub index: u64,
    /// Class id, 0-based.
    pub label: i64,
    /// Height in pixels.
    pub height: u32,
    /// Width in pixels.
    pub width: u32,
    /// Channels of the decoded image (1 or 3).
    pub channels: u8,
    /// How `bytes` is stored.
    pub encoding: Encoding,
    /// Raw HWC pixels or the encoded file.
    pub bytes: Vec<u8>,
}

/// A named list of samples (`train`, `val`, `test`).
#[derive(Debug, Clone)]
pub struct SplitData {
    /// The split's name.
    pub name: String,
    /// Its samples, in order.
    pub samples: Vec<Sample>,
    /// For datasets of image files: the blake3 over every file read (its `class/file` name and
    /// the blake3 of its bytes, in order), for provenance.
    pub files_blake3: Option<String>,
}

/// A dataset as read from its distribution format.
#[derive(Debug, Clone)]
pub struct RawDataset {
    /// Class names; label `i` is `classes[i]`.
    pub classes: Vec<String>,
    /// The dataset's own splits (usually `train` and `test`).
    pub splits: Vec<SplitData>,
    /// The files read, for provenance.
    pub sources: Vec<PathBuf>,
}

impl RawDataset {
    /// The split called `name`, or an error listing those present.
    pub fn split(&self, name: &str) -> Result<&SplitData> {
        self.splits.iter().find(|s| s.name == name).ok_or_else(|| {
            let names: Vec<_> = self.splits.iter().map(|s| s.name.as_str()).collect();
            Error::Invalid(format!("no split `{name}` (present: {})", names.join(", ")))
        })
    }
}

/// A sample from an encoded image file: small images (up to [`RAW_MAX_SIDE`]) are decoded to raw
/// RGB, larger ones keep their bytes (the loader decodes them to RGB, as torchvision's loader).
pub fn encoded_sample(path: &Path, bytes: Vec<u8>, index: u64, label: i64) -> Result<Sample> {
    let bad = |e: &dyn std::fmt::Display| {
        Error::format(
            path,
            0,
            format!("not a readable image ({e}); replace the file with a valid JPEG or PNG"),
        )
    };
    let reader = image::ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|e| bad(&e))?;
    let encoding = match reader.format() {
        Some(image::ImageFormat::Jpeg) => Encoding::Jpeg,
        Some(image::ImageFormat::Png) => Encoding::Png,
        _ => return Err(bad(&"unknown image format: only JPEG and PNG are read")),
    };
    let (width, height) = reader.into_dimensions().map_err(|e| bad(&e))?;
    if width.max(height) <= RAW_MAX_SIDE {
        let rgb = decode_rgb(&bytes).map_err(|e| bad(&e))?;
        return Ok(Sample {
            index,
            label,
            height: rgb.height(),
            width: rgb.width(),
            channels: 3,
            encoding: Encoding::Raw,
            bytes: rgb.into_raw(),
        });
    }
    Ok(Sample {
        index,
        label,
        height,
        width,
        channels: 3,
        encoding,
        bytes,
    })
}

/// Decodes an encoded image to RGB8.
pub fn decode_rgb(bytes: &[u8]) -> image::ImageResult<image::RgbImage> {
    Ok(image::load_from_memory(bytes)?.to_rgb8())
}
