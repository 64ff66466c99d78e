//! `lambda.png` and `entropy.png`: one line per (source, pair) column of the method statistics
//! over the epochs, for one run or the epoch-wise mean of several.

use crate::error::Result;
use crate::report::plots::canvas::{colour, err, font, render_png};
use crate::report::series::Curves;
use plotters::prelude::*;
use std::path::Path;

/// Most legend entries drawn; beyond that the lines stay but the legend would hide the plot.
const MAX_LEGEND: usize = 16;

/// Draws `curves` into `path` with a caption and a y-axis title.
pub fn curves_png(path: &Path, curves: &Curves, caption: &str, y_desc: &str) -> Result<()> {
    let x: Vec<f64> = curves.epochs.iter().map(|&e| e as f64).collect();
    let (xlo, xhi) = match (x.first(), x.last()) {
        (Some(&a), Some(&b)) if b > a => (a, b),
        (Some(&a), _) => (a - 0.5, a + 0.5),
        _ => (0.0, 1.0),
    };
    let values = curves.columns.values().flatten().flatten().copied();
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    let (ylo, yhi) = if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let legend = curves.columns.len() <= MAX_LEGEND;
    render_png(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(caption, font(22))
            .margin(18)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(xlo..xhi, ylo..yhi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            // Epochs are whole numbers: at most one tick per epoch.
            .x_labels((xhi - xlo).ceil().clamp(1.0, 12.0) as usize + 1)
            .x_label_formatter(&|v| {
                if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            })
            .y_desc(y_desc)
            .label_style(font(15))
            .axis_desc_style(font(17))
            .draw()
            .map_err(err)?;
        for (i, (name, ys)) in curves.columns.iter().enumerate() {
            let c = colour(i);
            // A gap (no value) ends one segment; each run of values is its own line.
            let mut segments: Vec<Vec<(f64, f64)>> = vec![vec![]];
            for (xv, yv) in x.iter().zip(ys) {
                match yv.filter(|v| v.is_finite()) {
                    Some(v) => segments.last_mut().map_or((), |s| s.push((*xv, v))),
                    None => segments.push(vec![]),
                }
            }
            for (k, seg) in segments.into_iter().filter(|s| !s.is_empty()).enumerate() {
                let drawn = chart
                    .draw_series(LineSeries::new(seg, c.stroke_width(2)))
                    .map_err(err)?;
                if k == 0 && legend {
                    drawn.label(name.as_str()).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(3))
                    });
                }
            }
        }
        if legend {
            chart
                .configure_series_labels()
                .label_font(font(14))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    })
}
