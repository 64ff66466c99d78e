//! A PNG grid of sample images of a store (for `l2tww data show`): up to `per_class` images of
//! each of the first `max_classes` classes, one row per class, each cell scaled to `cell` px.
use crate::data::augment::{crop_resize, gray_to_rgb};
use crate::data::store::Store;
use crate::error::{Error, Result};
use std::path::Path;

/// Writes the grid to `path` (PNG).
pub fn write_grid(
    store: &Store,
    path: &Path,
    per_class: usize,
    max_classes: usize,
    cell: usize,
) -> Result<()> {
    let classes = store.classes.len().min(max_classes);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &l) in store.labels.iter().enumerate() {
        if let Some(r) = rows.get_mut(l as usize).filter(|r| r.len() < per_class) {
            r.push(i);
        }
    }
    let (w, h) = (
        (cell * per_class).max(1) as u32,
        (cell * classes).max(1) as u32,
    );
    let mut canvas = image::RgbImage::new(w, h);
    for (r, idx) in rows.iter().enumerate() {
        for (k, &i) in idx.iter().enumerate() {
            let img = gray_to_rgb(store.image(i)?);
            let small = crop_resize(&img, (0, 0, img.width, img.height), cell, cell);
            let tile = image::RgbImage::from_raw(cell as u32, cell as u32, small.pixels)
                .expect("size matches");
            image::imageops::replace(&mut canvas, &tile, (k * cell) as i64, (r * cell) as i64);
        }
    }
    let tmp = tempfile::Builder::new()
        .suffix(".png")
        .tempfile_in(crate::fsx::parent_dir(path))
        .map_err(|e| Error::io(path, e))?;
    canvas
        .save_with_format(tmp.path(), image::ImageFormat::Png)
        .map_err(|e| Error::bad_file(path, format!("cannot write PNG: {e}")))?;
    crate::fsx::persist(tmp, path)
}
