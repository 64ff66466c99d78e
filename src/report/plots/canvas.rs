//! What every plot shares: the embedded font (from `crate::font`), the colour cycle, and
//! drawing into an RGB buffer that is encoded as PNG (with the `image` crate) and written
//! atomically.

use crate::error::{Error, Result};
use crate::fsx;
use plotters::prelude::*;
use std::path::Path;

/// Width and height of every plot (px).
pub const SIZE: (u32, u32) = (900, 560);

pub use crate::font::{font, register_font, FONT};

/// The colour of series `i` (the "tab10" cycle).
pub fn colour(i: usize) -> RGBColor {
    const TAB10: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = TAB10[i % TAB10.len()];
    RGBColor(r, g, b)
}

/// Draws with `draw` on a white canvas of [`SIZE`] and writes the PNG to `path`. Drawing
/// errors name the file.
pub fn render_png<F>(path: &Path, draw: F) -> Result<()>
where
    F: FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<(), String>,
{
    register_font()?;
    let (w, h) = SIZE;
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| drawing(path, &e))?;
        draw(&root).map_err(|e| drawing(path, &e))?;
        root.present().map_err(|e| drawing(path, &e))?;
    }
    let img = image::RgbImage::from_raw(w, h, buf)
        .ok_or_else(|| Error::bad_file(path, "plot buffer of the wrong size"))?;
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)
        .map_err(|e| Error::bad_file(path, format!("PNG encoding: {e}")))?;
    fsx::write_atomic(path, png.get_ref())
}

fn drawing(path: &Path, e: &dyn std::fmt::Display) -> Error {
    Error::bad_file(path, format!("drawing the plot: {e}"))
}

/// A drawing error as text (for `?` inside drawing closures).
pub fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_canvas_becomes_a_png_of_the_plot_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.png");
        render_png(&path, |root| {
            root.draw(&Text::new("λ entropy", (10, 10), font(20)))
                .map_err(err)
        })
        .unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), SIZE);
        assert!(
            img.pixels().any(|p| p.0 != [255, 255, 255]),
            "the text drew nothing"
        );
    }
}
