//! STL-10 binary (`stl10_binary`): 96×96×3 images stored column-major per channel
//! (`[c][x][y]`), labels 1-based in `*_y.bin`; the train and test splits (not `unlabeled`).
use crate::data::formats::cifar::{locate, names_file};
use crate::data::sample::{Encoding, RawDataset, Sample, SplitData};
use crate::error::{Error, Result};
use crate::fsx;
use std::path::Path;

const SIDE: usize = 96;
const IMAGE: usize = SIDE * SIDE * 3;

fn read_split(dir: &Path, name: &str, classes: usize) -> Result<SplitData> {
    let xp = dir.join(format!("{name}_X.bin"));
    let yp = dir.join(format!("{name}_y.bin"));
    let x = fsx::read(&xp)?;
    let y = fsx::read(&yp)?;
    if x.len() % IMAGE != 0 {
        return Err(Error::format(
            &xp,
            (x.len() - x.len() % IMAGE) as u64,
            format!(
                "{} bytes is not a whole number of 96×96×3 images; the file is truncated",
                x.len()
            ),
        ));
    }
    let n = x.len() / IMAGE;
    if y.len() != n {
        return Err(Error::format(
            &yp,
            y.len().min(n) as u64,
            format!("{} labels for {n} images in {}", y.len(), xp.display()),
        ));
    }
    let mut samples = Vec::with_capacity(n);
    for (i, &l) in y.iter().enumerate() {
        if l == 0 || l as usize > classes {
            return Err(Error::format(
                &yp,
                i as u64,
                format!("label {l} out of range 1..={classes} (STL-10 labels are 1-based)"),
            ));
        }
        let src = &x[i * IMAGE..(i + 1) * IMAGE];
        let mut hwc = vec![0u8; IMAGE];
        for c in 0..3 {
            for xx in 0..SIDE {
                for yy in 0..SIDE {
                    hwc[(yy * SIDE + xx) * 3 + c] = src[c * SIDE * SIDE + xx * SIDE + yy];
                }
            }
        }
        samples.push(Sample {
            index: i as u64,
            label: l as i64 - 1,
            height: 96,
            width: 96,
            channels: 3,
            encoding: Encoding::Raw,
            bytes: hwc,
        });
    }
    Ok(SplitData {
        name: name.into(),
        samples,
        files_blake3: None,
    })
}

/// Reads STL-10 from `dir` (`stl10_binary` or its parent).
pub fn read(dir: &Path) -> Result<RawDataset> {
    let dir = locate(dir, "stl10_binary", "class_names.txt")?;
    let names = dir.join("class_names.txt");
    let classes = names_file(&names)?;
    let train = read_split(&dir, "train", classes.len())?;
    let test = read_split(&dir, "test", classes.len())?;
    let sources = vec![
        names,
        dir.join("train_X.bin"),
        dir.join("train_y.bin"),
        dir.join("test_X.bin"),
        dir.join("test_y.bin"),
    ];
    Ok(RawDataset {
        classes,
        splits: vec![train, test],
        sources,
    })
}
