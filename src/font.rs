//! The embedded font (DejaVu Sans) for everything l2tww draws text on — plots and the sample
//! grid — so that text renders without system fonts. Imports only `error`.

use crate::error::{Error, Result};
use plotters::style::{FontStyle, IntoFont, TextStyle};
use std::sync::OnceLock;

/// The family name the embedded font is registered under.
pub const FONT: &str = "l2tww-sans";

static FONT_BYTES: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font with plotters (once per process).
pub fn register_font() -> Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(
            "the embedded plot font does not load".into(),
        ))
    }
}

/// Text style of the embedded font at `size` px.
pub fn font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().into()
}
