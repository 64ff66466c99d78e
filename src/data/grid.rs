//! A PNG grid of sample images of a store (for `l2tww data show`): up to `per_class` images of
//! each of the first `max_classes` classes, one row per class, each cell scaled to `cell` px,
//! the class's index and name written left of its row (in the embedded font).
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
    let label = |c: usize| format!("{c} {}", store.classes[c]);
    let text_px = (cell as u32 * 3 / 10).clamp(10, 16);
    // Wide enough for the longest label (DejaVu Sans averages ~0.6 em a character).
    let margin = (0..classes)
        .map(|c| label(c).chars().count() as u32 * text_px * 6 / 10 + 12)
        .max()
        .unwrap_or(0);
    let (w, h) = (
        margin + (cell * per_class).max(1) as u32,
        (cell * classes).max(1) as u32,
    );
    let mut canvas = image::RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
    draw_labels(&mut canvas, path, classes, cell, text_px, &label)?;
    for (r, idx) in rows.iter().enumerate() {
        for (k, &i) in idx.iter().enumerate() {
            let img = gray_to_rgb(store.image(i)?);
            let small = crop_resize(&img, (0, 0, img.width, img.height), cell, cell);
            let tile = image::RgbImage::from_raw(cell as u32, cell as u32, small.pixels)
                .expect("size matches");
            let x = margin as i64 + (k * cell) as i64;
            image::imageops::replace(&mut canvas, &tile, x, (r * cell) as i64);
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

/// Writes each row's class label at the left of `canvas`, centred on its row.
fn draw_labels(
    canvas: &mut image::RgbImage,
    path: &Path,
    classes: usize,
    cell: usize,
    text_px: u32,
    label: &dyn Fn(usize) -> String,
) -> Result<()> {
    use plotters::prelude::*;
    crate::font::register_font()?;
    let (w, h) = canvas.dimensions();
    let drawing =
        |e: &dyn std::fmt::Display| Error::bad_file(path, format!("drawing the labels: {e}"));
    let root = BitMapBackend::with_buffer(canvas.as_mut(), (w, h)).into_drawing_area();
    let style = crate::font::font(text_px).pos(plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Left,
        plotters::style::text_anchor::VPos::Center,
    ));
    for c in 0..classes {
        let y = (c * cell + cell / 2) as i32;
        root.draw(&Text::new(label(c), (6, y), style.clone()))
            .map_err(|e| drawing(&e))?;
    }
    root.present().map_err(|e| drawing(&e))?;
    Ok(())
}
