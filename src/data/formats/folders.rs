//! Datasets of image files: TinyImageNet-200, CUB-200-2011, Stanford Dogs, MIT Indoor-67,
//! Stanford 40 Actions and the generic ImageFolder (one folder per class). Each parses its own
//! lists into [`Entry`] lists; [`read_entries`] reads the files in ImageFolder order (classes
//! sorted by name, files by path), as the official code reads all of them.
use crate::data::formats::cifar::locate;
use crate::data::formats::listed::{
    class_of, id_map, image_files, lines, read_entries, subdirs, Entry,
};
use crate::data::formats::matlab;
use crate::data::sample::RawDataset;
use crate::error::{Error, Result};
use std::path::Path;

/// TinyImageNet-200: classes are the sorted wnids (ImageFolder order, as the official code);
/// `train` from `train/<wnid>/images/*.JPEG`, `test` from `val/` by `val_annotations.txt`.
pub fn tinyimagenet(dir: &Path) -> Result<RawDataset> {
    let dir = locate(dir, "tiny-imagenet-200", "wnids.txt")?;
    let wnids_path = dir.join("wnids.txt");
    let mut classes: Vec<String> = lines(&wnids_path)?.into_iter().map(|(_, l)| l).collect();
    classes.sort();
    let mut train = Vec::new();
    for (label, wnid) in classes.iter().enumerate() {
        for path in image_files(&dir.join("train").join(wnid).join("images"))? {
            train.push(Entry {
                path,
                label: label as i64,
            });
        }
    }
    let ann = dir.join("val").join("val_annotations.txt");
    let mut test = Vec::new();
    for (n, l) in lines(&ann)? {
        let mut f = l.split('\t');
        let (Some(file), Some(wnid)) = (f.next(), f.next()) else {
            return Err(Error::line(&ann, n, "expected `<file>\\t<wnid>\\t…`"));
        };
        let label = class_of(&classes, wnid, &ann, n)?;
        test.push(Entry {
            path: dir.join("val").join("images").join(file),
            label,
        });
    }
    Ok(RawDataset {
        classes,
        splits: vec![read_entries("train", &train)?, read_entries("test", &test)?],
        sources: vec![wnids_path, ann],
    })
}

/// CUB-200-2011 from `images.txt`, `image_class_labels.txt`, `train_test_split.txt` and
/// `classes.txt`; within each split, files sorted by path (the ImageFolder order of the official
/// train/test folders, which the paper's split files index).
pub fn cub200(dir: &Path) -> Result<RawDataset> {
    let dir = locate(dir, "CUB_200_2011", "images.txt")?;
    let cls_path = dir.join("classes.txt");
    let mut classes = Vec::new();
    for (n, l) in lines(&cls_path)? {
        let name = l
            .split_once(' ')
            .map(|(_, r)| r.trim().to_string())
            .ok_or_else(|| Error::line(&cls_path, n, "expected `<id> <name>`"))?;
        classes.push(name);
    }
    let (ip, lp, sp) = (
        dir.join("images.txt"),
        dir.join("image_class_labels.txt"),
        dir.join("train_test_split.txt"),
    );
    let (images, labels, split) = (id_map(&ip)?, id_map(&lp)?, id_map(&sp)?);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    let mut ids: Vec<_> = images.keys().copied().collect();
    ids.sort();
    for id in ids {
        let rel = &images[&id];
        let label = labels
            .get(&id)
            .ok_or_else(|| Error::bad_file(&lp, format!("no label for image id {id} ({rel})")))?;
        let label: i64 = label
            .parse()
            .ok()
            .filter(|&l: &i64| l >= 1 && l as usize <= classes.len())
            .ok_or_else(|| {
                Error::bad_file(
                    &lp,
                    format!(
                        "label `{label}` of image id {id} is not in 1..={}",
                        classes.len()
                    ),
                )
            })?;
        let entry = Entry {
            path: dir.join("images").join(rel),
            label: label - 1,
        };
        match split.get(&id).map(String::as_str) {
            Some("1") => train.push(entry),
            Some("0") => test.push(entry),
            other => {
                return Err(Error::bad_file(
                    &sp,
                    format!("image id {id}: split flag {other:?}, expected 1 (train) or 0 (test)"),
                ))
            }
        }
    }
    Ok(RawDataset {
        classes,
        splits: vec![read_entries("train", &train)?, read_entries("test", &test)?],
        sources: vec![cls_path, ip, lp, sp],
    })
}

/// Reads `<class>/<file>` lines of `list` under `images`; classes are the sorted sub-folders.
fn class_path_list(images: &Path, list: &Path, classes: &[String]) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for (n, l) in lines(list)? {
        let class = l.split('/').next().unwrap_or_default();
        let label = class_of(classes, class, list, n)?;
        out.push(Entry {
            path: images.join(&l),
            label,
        });
    }
    Ok(out)
}

/// Stanford Dogs: `Images/<wnid-breed>/…` with the official `train_list.mat` / `test_list.mat`
/// (variable `file_list`), or text lists `train_list.txt` / `test_list.txt` (one
/// `<breed folder>/<file>` per line), or, without lists, ImageFolder `train/` and `test/` folders
/// (as the official `dog.py` makes them).
pub fn dogs(dir: &Path) -> Result<RawDataset> {
    let images = dir.join("Images");
    let (mat, txt) = (dir.join("train_list.mat"), dir.join("train_list.txt"));
    if !mat.exists() && !txt.exists() {
        return image_folder(dir);
    }
    let classes = subdirs(&images)?;
    let mut splits = Vec::new();
    let mut sources = Vec::new();
    for split in ["train", "test"] {
        let entries = if mat.exists() {
            let list = dir.join(format!("{split}_list.mat"));
            let mut out = Vec::new();
            for (k, rel) in matlab::read_cell_strings(&list, "file_list")?
                .into_iter()
                .enumerate()
            {
                let class = rel.split('/').next().unwrap_or_default();
                let label = classes.iter().position(|c| c == class).ok_or_else(|| {
                    Error::bad_file(
                        &list,
                        format!(
                            "entry {k} `{rel}`: no folder `{class}` in {}",
                            images.display()
                        ),
                    )
                })?;
                out.push(Entry {
                    path: images.join(&rel),
                    label: label as i64,
                });
            }
            sources.push(list);
            out
        } else {
            let list = dir.join(format!("{split}_list.txt"));
            let out = class_path_list(&images, &list, &classes)?;
            sources.push(list);
            out
        };
        splits.push(read_entries(split, &entries)?);
    }
    Ok(RawDataset {
        classes,
        splits,
        sources,
    })
}

/// MIT Indoor-67: `Images/<class>/…` with `TrainImages.txt` and `TestImages.txt`.
pub fn indoor67(dir: &Path) -> Result<RawDataset> {
    let images = dir.join("Images");
    let classes = subdirs(&images)?;
    let (tl, sl) = (dir.join("TrainImages.txt"), dir.join("TestImages.txt"));
    let train = class_path_list(&images, &tl, &classes)?;
    let test = class_path_list(&images, &sl, &classes)?;
    Ok(RawDataset {
        classes,
        splits: vec![read_entries("train", &train)?, read_entries("test", &test)?],
        sources: vec![tl, sl],
    })
}

/// Stanford 40 Actions: `JPEGImages/<action>_NNN.jpg`, `ImageSplits/actions.txt` (a header line,
/// then `<action>\t<count>`), `ImageSplits/train.txt` and `test.txt` (file names).
pub fn stanford40(dir: &Path) -> Result<RawDataset> {
    let splits = dir.join("ImageSplits");
    let ap = splits.join("actions.txt");
    let mut classes: Vec<String> = lines(&ap)?
        .into_iter()
        .skip(1)
        .map(|(_, l)| l.split_whitespace().next().unwrap_or_default().to_string())
        .collect();
    classes.sort();
    let read_list = |name: &str| -> Result<Vec<Entry>> {
        let list = splits.join(name);
        let mut out = Vec::new();
        for (n, file) in lines(&list)? {
            let action = file.rsplit_once('_').map(|(a, _)| a).ok_or_else(|| {
                Error::line(&list, n, format!("`{file}` is not `<action>_<number>.jpg`"))
            })?;
            let label = class_of(&classes, action, &list, n)?;
            out.push(Entry {
                path: dir.join("JPEGImages").join(&file),
                label,
            });
        }
        Ok(out)
    };
    let (train, test) = (read_list("train.txt")?, read_list("test.txt")?);
    Ok(RawDataset {
        classes,
        splits: vec![read_entries("train", &train)?, read_entries("test", &test)?],
        sources: vec![ap, splits.join("train.txt"), splits.join("test.txt")],
    })
}

/// A generic ImageFolder: `dir/<class>/<images>` (one split, `train`), or split folders
/// `dir/{train,val,test}/<class>/<images>`. Classes are sorted folder names (of `train` when
/// split); files are sorted by path, as torchvision's ImageFolder.
pub fn image_folder(dir: &Path) -> Result<RawDataset> {
    let split_names: Vec<&str> = ["train", "val", "test"]
        .into_iter()
        .filter(|s| dir.join(s).is_dir())
        .collect();
    let roots: Vec<(&str, std::path::PathBuf)> = if split_names.is_empty() {
        vec![("train", dir.to_path_buf())]
    } else {
        split_names.iter().map(|s| (*s, dir.join(s))).collect()
    };
    let classes = subdirs(&roots[0].1)?;
    if classes.is_empty() {
        return Err(Error::bad_file(
            dir,
            "no class folders: an ImageFolder holds one folder of images per class",
        ));
    }
    let mut splits = Vec::new();
    for (name, root) in &roots {
        let mut entries = Vec::new();
        for class in subdirs(root)? {
            let label = classes.iter().position(|c| *c == class).ok_or_else(|| {
                Error::bad_file(
                    root.join(&class),
                    format!(
                        "class folder `{class}` is not among the classes of {}",
                        roots[0].1.display()
                    ),
                )
            })?;
            for path in image_files(&root.join(&class))? {
                entries.push(Entry {
                    path,
                    label: label as i64,
                });
            }
        }
        splits.push(read_entries(name, &entries)?);
    }
    Ok(RawDataset {
        classes,
        splits,
        sources: vec![],
    })
}
