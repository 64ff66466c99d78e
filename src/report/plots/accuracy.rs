//! `accuracy.png`: the pivot's value (normally the test accuracy) against a numeric label (the
//! samples per class), one line per value of another label (the method). The line joins the
//! means over the seeds; a band and a bar at each x span the seeds' min to max. The x axis is
//! logarithmic when its values span more than 8×, with a tick at each value.

use crate::error::Result;
use crate::report::order::all_numeric;
use crate::report::plots::canvas::{colour, err, font, render_png};
use crate::report::table::Pivot;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;

/// One point of a line: x position, mean, low, high.
pub type Point = (f64, f64, f64, f64);

/// Draws `p` (rows: the x label's values, columns: the lines) into `path`.
pub fn accuracy_png(path: &Path, p: &Pivot, x_label: &str, line_label: &str) -> Result<()> {
    let xs: Vec<String> = p.rows.iter().map(|r| r.join(" / ")).collect();
    let axis = XAxis::new(&xs);
    let mut lines: Vec<(String, Vec<Point>)> = Vec::new();
    for col in &p.cols {
        let mut pts: Vec<Point> = p
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, row)| p.get(row, col).map(|c| (axis.pos[i], c.mean, c.min, c.max)))
            .filter(|pt| pt.1.is_finite())
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let name = if col.is_empty() {
            p.spec.value.column().to_string()
        } else {
            col.join(" / ")
        };
        lines.push((name, pts));
    }
    let over: Vec<&str> = p.over.keys().map(String::as_str).collect();
    let caption = if over.is_empty() {
        format!("{} by {x_label} and {line_label}", p.spec.value.column())
    } else {
        format!(
            "{} by {x_label} and {line_label}: mean, min–max over {}",
            p.spec.value.column(),
            over.join(", ")
        )
    };
    let chart = Lines {
        axis: &axis,
        lines: &lines,
        caption,
        x_label,
        y_desc: p.spec.value.title().to_string(),
        zero_line: false,
    };
    chart.png(path)
}

/// Points of several lines against a shared x axis, each with a bar from its low to its high
/// value (and a band between them), optionally a horizontal line at 0.
pub struct Lines<'a> {
    /// The x axis.
    pub axis: &'a XAxis,
    /// Each line's name and points.
    pub lines: &'a [(String, Vec<Point>)],
    /// The caption.
    pub caption: String,
    /// The x label's name.
    pub x_label: &'a str,
    /// What y is.
    pub y_desc: String,
    /// Whether to draw y = 0.
    pub zero_line: bool,
}

impl Lines<'_> {
    /// Draws the lines into `path`.
    pub fn png(&self, path: &Path) -> Result<()> {
        let (axis, lines) = (self.axis, self.lines);
        let (mut ylo, mut yhi) = y_range(lines);
        if self.zero_line {
            ylo = ylo.min(0.0);
            yhi = yhi.max(0.0);
        }
        let x_desc = if axis.log {
            format!("{} (log scale)", self.x_label)
        } else {
            self.x_label.to_string()
        };
        render_png(path, |root| {
            let mut chart = ChartBuilder::on(root)
                .caption(&self.caption, font(20))
                .margin(18)
                .x_label_area_size(55)
                .y_label_area_size(70)
                .build_cartesian_2d(axis.clone(), ylo..yhi)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc(x_desc)
                .y_desc(&self.y_desc)
                .x_label_formatter(&|v| axis.text_at(*v))
                .label_style(font(15))
                .axis_desc_style(font(17))
                .draw()
                .map_err(err)?;
            if self.zero_line {
                let (x0, x1) = axis.bounds();
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x0, 0.0), (x1, 0.0)],
                        BLACK.stroke_width(1),
                    )))
                    .map_err(err)?;
            }
            for (i, (name, pts)) in lines.iter().enumerate() {
                let c = colour(i);
                if pts.len() >= 2 {
                    let mut band: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.3)).collect();
                    band.extend(pts.iter().rev().map(|p| (p.0, p.2)));
                    chart
                        .draw_series(std::iter::once(Polygon::new(band, c.mix(0.15))))
                        .map_err(err)?;
                }
                let bar =
                    |p: &Point| PathElement::new(vec![(p.0, p.2), (p.0, p.3)], c.stroke_width(1));
                chart.draw_series(pts.iter().map(bar)).map_err(err)?;
                chart
                    .draw_series(LineSeries::new(
                        pts.iter().map(|p| (p.0, p.1)),
                        c.stroke_width(2),
                    ))
                    .map_err(err)?
                    .label(name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(3))
                    });
                chart
                    .draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 4, c.filled())))
                    .map_err(err)?;
            }
            chart
                .configure_series_labels()
                .label_font(font(15))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::LowerRight)
                .draw()
                .map_err(err)?;
            Ok(())
        })
    }
}

/// The x axis: a position per value (log10 of it on a log axis; its index when not numeric).
#[derive(Debug, Clone, PartialEq)]
pub struct XAxis {
    /// The values as text, in row order.
    pub text: Vec<String>,
    /// Their positions on the axis.
    pub pos: Vec<f64>,
    /// Whether the axis is logarithmic.
    pub log: bool,
}

impl XAxis {
    /// Positions for the values `xs`.
    pub fn new(xs: &[String]) -> Self {
        let nums: Vec<f64> = xs
            .iter()
            .filter_map(|x| x.trim().parse::<f64>().ok())
            .collect();
        let numeric = all_numeric(xs) && nums.len() == xs.len();
        let (lo, hi) = nums
            .iter()
            .fold((f64::INFINITY, 0f64), |(l, h), &x| (l.min(x), h.max(x)));
        let log = numeric && lo > 0.0 && hi / lo > 8.0;
        let pos = if !numeric {
            (0..xs.len()).map(|i| i as f64).collect()
        } else if log {
            nums.iter().map(|x| x.log10()).collect()
        } else {
            nums
        };
        XAxis {
            text: xs.to_vec(),
            pos,
            log,
        }
    }

    /// The drawn range, with a margin of 5% of the span (±0.5 around a single value).
    pub fn bounds(&self) -> (f64, f64) {
        let lo = self.pos.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self.pos.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !lo.is_finite() {
            return (0.0, 1.0);
        }
        let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.5 };
        (lo - pad, hi + pad)
    }

    /// The label of the tick at position `v`.
    pub fn text_at(&self, v: f64) -> String {
        self.pos
            .iter()
            .position(|p| (p - v).abs() < 1e-9)
            .map(|i| self.text[i].clone())
            .unwrap_or_default()
    }
}

/// A linear axis over [`XAxis::bounds`] whose ticks are exactly the values.
impl Ranged for XAxis {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn range(&self) -> Range<f64> {
        let (lo, hi) = self.bounds();
        lo..hi
    }

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let (lo, hi) = self.bounds();
        let frac = (v - lo) / (hi - lo);
        limit.0 + (frac * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.pos.clone()
        }
    }
}

/// The y range spanning every min and max, with a 5% margin.
fn y_range(lines: &[(String, Vec<Point>)]) -> (f64, f64) {
    let vals = lines
        .iter()
        .flat_map(|(_, pts)| pts.iter().flat_map(|p| [p.2, p.3]));
    let (lo, hi) = vals
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 100.0);
    }
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 1.0 };
    (lo - pad, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn a_wide_numeric_span_makes_a_log_axis_with_ticks_at_the_values() {
        let a = XAxis::new(&s(&["10", "100", "1000"]));
        assert!(a.log);
        assert_eq!(a.pos, [1.0, 2.0, 3.0]);
        assert_eq!(a.text_at(2.0), "100");
        assert_eq!(a.text_at(2.5), "");
    }

    #[test]
    fn a_narrow_span_stays_linear_and_words_are_spaced_evenly() {
        let a = XAxis::new(&s(&["25", "100"]));
        assert!(!a.log);
        assert_eq!(a.pos, [25.0, 100.0]);
        let w = XAxis::new(&s(&["few", "many"]));
        assert_eq!((w.log, w.pos.clone()), (false, vec![0.0, 1.0]));
        assert_eq!(w.bounds(), (-0.05, 1.05));
    }
}
