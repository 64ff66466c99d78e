//! CIFAR-10 and CIFAR-100, binary version (`cifar-10-batches-bin`, `cifar-100-binary`): records
//! of label byte(s) + 3072 bytes (R, G, B planes of 32×32), converted to HWC.
use crate::data::sample::{Encoding, RawDataset, Sample, SplitData};
use crate::error::{Error, Result};
use crate::fsx;
use std::path::{Path, PathBuf};

const PIXELS: usize = 32 * 32;

/// Reads the non-empty lines of a class-name file.
pub(crate) fn names_file(path: &Path) -> Result<Vec<String>> {
    Ok(fsx::read_to_string(path)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// Reads the records of one CIFAR binary file. `label_bytes` is 1 (CIFAR-10) or 2 (CIFAR-100,
/// coarse then fine; the fine label is used).
fn read_records(
    path: &Path,
    label_bytes: usize,
    classes: usize,
    first_index: u64,
) -> Result<Vec<Sample>> {
    let bytes = fsx::read(path)?;
    let rec = label_bytes + 3 * PIXELS;
    if bytes.is_empty() || bytes.len() % rec != 0 {
        let whole = bytes.len() - bytes.len() % rec;
        return Err(Error::format(
            path,
            whole as u64,
            format!("{} bytes is not a whole number of {rec}-byte records; the file is truncated or not a CIFAR binary file", bytes.len()),
        ));
    }
    let mut out = Vec::with_capacity(bytes.len() / rec);
    for (i, r) in bytes.chunks_exact(rec).enumerate() {
        let label = r[label_bytes - 1] as usize;
        if label >= classes {
            return Err(Error::format(
                path,
                (i * rec + label_bytes - 1) as u64,
                format!("label {label} out of range 0..{classes} in record {i}"),
            ));
        }
        let planes = &r[label_bytes..];
        let mut hwc = vec![0u8; 3 * PIXELS];
        for p in 0..PIXELS {
            for c in 0..3 {
                hwc[p * 3 + c] = planes[c * PIXELS + p];
            }
        }
        out.push(Sample {
            index: first_index + i as u64,
            label: label as i64,
            height: 32,
            width: 32,
            channels: 3,
            encoding: Encoding::Raw,
            bytes: hwc,
        });
    }
    Ok(out)
}

/// `dir` itself if it holds `marker`, else `dir/sub`.
pub(crate) fn locate(dir: &Path, sub: &str, marker: &str) -> Result<PathBuf> {
    if dir.join(marker).exists() {
        return Ok(dir.to_path_buf());
    }
    if dir.join(sub).join(marker).exists() {
        return Ok(dir.join(sub));
    }
    Err(Error::bad_file(
        dir,
        format!(
            "neither {0}/{1} nor {1} found: point to the extracted `{0}` folder or its archive",
            sub, marker
        ),
    ))
}

/// Reads CIFAR-10 binary from `dir` (`cifar-10-batches-bin` or its parent).
pub fn read_cifar10(dir: &Path) -> Result<RawDataset> {
    let dir = locate(dir, "cifar-10-batches-bin", "batches.meta.txt")?;
    let meta = dir.join("batches.meta.txt");
    let classes = names_file(&meta)?;
    if classes.len() != 10 {
        return Err(Error::bad_file(
            &meta,
            format!("{} class names, expected 10", classes.len()),
        ));
    }
    let mut sources = vec![meta];
    let mut train = Vec::new();
    for b in 1..=5 {
        let p = dir.join(format!("data_batch_{b}.bin"));
        train.extend(read_records(&p, 1, 10, train.len() as u64)?);
        sources.push(p);
    }
    let tp = dir.join("test_batch.bin");
    let test = read_records(&tp, 1, 10, 0)?;
    sources.push(tp);
    Ok(RawDataset {
        classes,
        splits: vec![
            SplitData {
                name: "train".into(),
                samples: train,
                files_blake3: None,
            },
            SplitData {
                name: "test".into(),
                samples: test,
                files_blake3: None,
            },
        ],
        sources,
    })
}

/// Reads CIFAR-100 binary (fine labels) from `dir` (`cifar-100-binary` or its parent).
pub fn read_cifar100(dir: &Path) -> Result<RawDataset> {
    let dir = locate(dir, "cifar-100-binary", "fine_label_names.txt")?;
    let meta = dir.join("fine_label_names.txt");
    let classes = names_file(&meta)?;
    if classes.len() != 100 {
        return Err(Error::bad_file(
            &meta,
            format!("{} class names, expected 100", classes.len()),
        ));
    }
    let (trp, tep) = (dir.join("train.bin"), dir.join("test.bin"));
    let train = read_records(&trp, 2, 100, 0)?;
    let test = read_records(&tep, 2, 100, 0)?;
    Ok(RawDataset {
        classes,
        splits: vec![
            SplitData {
                name: "train".into(),
                samples: train,
                files_blake3: None,
            },
            SplitData {
                name: "test".into(),
                samples: test,
                files_blake3: None,
            },
        ],
        sources: vec![meta, trp, tep],
    })
}
