//! What L2T-ww learned, as the paper's Figure 4 draws it: for each value of the plot's x label
//! and of its line label (size × method) whose runs have meta-networks, a heatmap of λ after the
//! last epoch by source tap (rows, grouped by source) × target tap (columns), the mean over the
//! runs, beside a heatmap of the entropy of w after the last epoch as a fraction of its value
//! before training (1: w still uniform). One scale for λ across the report's maps, so that a
//! learning row and its frozen control compare at a glance. Files
//! `lambda-map-<x value>-<line value>.png`.

use crate::error::Result;
use crate::report::frame::Run;
use crate::report::plots::canvas::{err, font, render_png, SIZE};
use crate::report::plots::learning::file_part;
use crate::report::table::Pivot;
use crate::transfer::record::columns::{ENTROPY, LAMBDA};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A pair's place: source index, source tap, target tap.
type PairKey = (usize, usize, usize);

/// One map: mean λ and mean entropy ratio per pair over `n` runs.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaMap {
    /// Mean final λ per pair.
    pub lambda: BTreeMap<PairKey, f64>,
    /// Mean λ before training per pair.
    pub initial: BTreeMap<PairKey, f64>,
    /// Mean final entropy of w over its initial entropy, per pair.
    pub entropy_ratio: BTreeMap<PairKey, f64>,
    /// Runs averaged.
    pub n: usize,
}

/// `s0.2-4` → (0, 2, 4).
fn parse_pair(s: &str) -> Option<PairKey> {
    let (src, rest) = s.strip_prefix('s')?.split_once('.')?;
    let (m, n) = rest.split_once('-')?;
    Some((src.parse().ok()?, m.parse().ok()?, n.parse().ok()?))
}

/// The mean map of `runs` (None when no run has λ statistics).
pub fn mean_map(runs: &[&Run]) -> Option<LambdaMap> {
    let mut lambda: BTreeMap<PairKey, Vec<f64>> = BTreeMap::new();
    let mut initial: BTreeMap<PairKey, Vec<f64>> = BTreeMap::new();
    let mut ratio: BTreeMap<PairKey, Vec<f64>> = BTreeMap::new();
    let mut n = 0;
    for r in runs {
        let Some(last) = r.summary.epochs.last() else {
            continue;
        };
        let mut any = false;
        for (k, v) in &last.stats {
            if let Some(p) = k.strip_prefix(LAMBDA).and_then(parse_pair) {
                lambda.entry(p).or_default().push(*v);
                if let Some(i) = r.summary.initial_stats.get(k) {
                    initial.entry(p).or_default().push(*i);
                }
                any = true;
            } else if let Some(p) = k.strip_prefix(ENTROPY).and_then(parse_pair) {
                let init = r.summary.initial_stats.get(k).copied().unwrap_or(f64::NAN);
                if init > 0.0 {
                    ratio.entry(p).or_default().push(v / init);
                }
            }
        }
        n += usize::from(any);
    }
    let mean = |m: BTreeMap<PairKey, Vec<f64>>| -> BTreeMap<PairKey, f64> {
        m.into_iter()
            .map(|(k, v)| (k, v.iter().sum::<f64>() / v.len() as f64))
            .collect()
    };
    (n > 0).then(|| LambdaMap {
        lambda: mean(lambda),
        initial: mean(initial),
        entropy_ratio: mean(ratio),
        n,
    })
}

/// Draws one map per (x value, line value) of `p` whose runs have λ; returns the files and the
/// Markdown table of λ by source (empty when no run has λ).
pub fn lambda_maps(
    dir: &Path,
    runs: &[Run],
    p: &Pivot,
    x_label: &str,
    line_label: &str,
) -> Result<(Vec<PathBuf>, String)> {
    let mut maps = Vec::new();
    for row in &p.rows {
        let x_value = row.join(" / ");
        for col in &p.cols {
            let line_value = col.join(" / ");
            let chosen: Vec<&Run> = runs
                .iter()
                .filter(|r| r.label(x_label) == x_value && r.label(line_label) == line_value)
                .collect();
            if let Some(map) = mean_map(&chosen) {
                let names = source_names(&chosen);
                maps.push((x_value.clone(), line_value, map, names));
            }
        }
    }
    let top = maps
        .iter()
        .flat_map(|(_, _, m, _)| m.lambda.values().copied())
        .filter(|v| v.is_finite())
        .fold(1.0_f64, f64::max);
    let mut files = Vec::new();
    for (x_value, line_value, map, names) in &maps {
        let path = dir.join(format!(
            "lambda-map-{}-{}.png",
            file_part(x_value),
            file_part(line_value)
        ));
        let caption = format!(
            "{x_label} = {x_value}, {line_label} = {line_value}: mean over {} run{}",
            map.n,
            if map.n == 1 { "" } else { "s" }
        );
        draw(&path, map, names, top, &caption)?;
        files.push(path);
    }
    Ok((files, by_source_markdown(&maps, x_label, line_label)))
}

/// The Markdown table of λ by source: per (x value, line value), each source's λ averaged over
/// its pairs and the runs, before training → after the last epoch.
fn by_source_markdown(
    maps: &[(String, String, LambdaMap, Vec<String>)],
    x_label: &str,
    line_label: &str,
) -> String {
    if maps.is_empty() {
        return String::new();
    }
    let sources = maps
        .iter()
        .flat_map(|(_, _, m, _)| m.lambda.keys().map(|k| k.0))
        .max()
        .map_or(0, |s| s + 1);
    let mut out = format!(
        "**λ by source**: each source's λ averaged over its pairs and the runs, before training \
         → after the last epoch (source k of the run's `sources` label; the λ maps show each \
         pair).\n\n| {x_label} | {line_label} | n |"
    );
    for s in 0..sources {
        out.push_str(&format!(" source {} |", s + 1));
    }
    out.push_str("\n| --- | --- | ---: |");
    out.push_str(&" ---: |".repeat(sources));
    out.push('\n');
    let avg = |m: &BTreeMap<PairKey, f64>, s: usize| {
        let v: Vec<f64> = m
            .iter()
            .filter(|(k, _)| k.0 == s)
            .map(|(_, v)| *v)
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    for (x, line, map, names) in maps {
        out.push_str(&format!("| {x} | {line} | {} |", map.n));
        for s in 0..sources {
            let cell = match (avg(&map.initial, s), avg(&map.lambda, s)) {
                (Some(a), Some(b)) => {
                    let name = names.get(s).map_or(String::new(), |n| format!("{n}: "));
                    format!(" {name}{a:.2} → {b:.2} |")
                }
                (None, Some(b)) => format!(" {b:.2} |"),
                _ => " — |".to_string(),
            };
            out.push_str(&cell);
        }
        out.push('\n');
    }
    out
}

/// The source names of the runs' `sources` label (`a+b` → [a, b]) when all runs share it.
pub(super) fn source_names(runs: &[&Run]) -> Vec<String> {
    let Some(first) = runs.first().map(|r| r.label("sources")) else {
        return Vec::new();
    };
    if first.is_empty() || runs.iter().any(|r| r.label("sources") != first) {
        return Vec::new();
    }
    first.split('+').map(String::from).collect()
}

/// White at 0, dark blue at 1.
fn shade(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(mix(255.0, 8.0), mix(255.0, 48.0), mix(255.0, 107.0))
}

fn draw(path: &Path, map: &LambdaMap, names: &[String], top: f64, caption: &str) -> Result<()> {
    let rows: Vec<(usize, usize)> = {
        let mut r: Vec<(usize, usize)> = map.lambda.keys().map(|&(s, m, _)| (s, m)).collect();
        r.dedup();
        r
    };
    let mut cols: Vec<usize> = map.lambda.keys().map(|&(_, _, n)| n).collect();
    cols.sort_unstable();
    cols.dedup();
    let row_name = |(s, m): (usize, usize)| match names.get(s) {
        Some(n) => format!("{n} tap {m}"),
        None => format!("s{s} tap {m}"),
    };
    render_png(path, |root| {
        root.draw(&Text::new(caption.to_string(), (18, 10), font(20)))
            .map_err(err)?;
        let (w, h) = SIZE;
        let panels = [
            (
                format!("λ after the last epoch (scale 0–{top:.2})"),
                &map.lambda,
                top,
            ),
            (
                "entropy of w / before training (1 = uniform)".to_string(),
                &map.entropy_ratio,
                1.0,
            ),
        ];
        let label_w = 150i32;
        let (top_y, bottom_y) = (70i32, h as i32 - 50);
        let panel_w = (w as i32 - 20) / 2;
        for (i, (title, values, scale)) in panels.iter().enumerate() {
            let x0 = 10 + i as i32 * panel_w + label_w;
            let x1 = 10 + (i as i32 + 1) * panel_w - 10;
            root.draw(&Text::new(title.clone(), (x0 - label_w + 10, 42), font(16)))
                .map_err(err)?;
            let cw = (x1 - x0) / cols.len().max(1) as i32;
            let ch = ((bottom_y - top_y) / rows.len().max(1) as i32).min(60);
            for (ri, &(s, m)) in rows.iter().enumerate() {
                let y = top_y + ri as i32 * ch;
                root.draw(&Text::new(
                    row_name((s, m)),
                    (x0 - label_w + 4, y + ch / 2 - 8),
                    font(14),
                ))
                .map_err(err)?;
                for (ci, &n) in cols.iter().enumerate() {
                    let x = x0 + ci as i32 * cw;
                    let v = values.get(&(s, m, n)).copied().unwrap_or(f64::NAN);
                    let t = v / scale;
                    root.draw(&Rectangle::new(
                        [(x, y), (x + cw - 2, y + ch - 2)],
                        shade(t).filled(),
                    ))
                    .map_err(err)?;
                    let ink = if t > 0.55 { WHITE } else { BLACK };
                    let text = if v.is_finite() {
                        format!("{v:.2}")
                    } else {
                        "—".into()
                    };
                    root.draw(&Text::new(
                        text,
                        (x + cw / 2 - 16, y + ch / 2 - 8),
                        font(14).color(&ink),
                    ))
                    .map_err(err)?;
                }
            }
            let y = top_y + rows.len() as i32 * ch + 6;
            for (ci, &n) in cols.iter().enumerate() {
                let x = x0 + ci as i32 * cw;
                root.draw(&Text::new(format!("{n}"), (x + cw / 2 - 4, y), font(14)))
                    .map_err(err)?;
            }
            root.draw(&Text::new(
                "target tap →".to_string(),
                (x0, y + 20),
                font(14),
            ))
            .map_err(err)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_names_parse_into_source_and_taps() {
        assert_eq!(parse_pair("s0.2-4"), Some((0, 2, 4)));
        assert_eq!(parse_pair("s1.10-0"), Some((1, 10, 0)));
        assert_eq!(parse_pair("x0.2-4"), None);
        assert_eq!(parse_pair("s0.2"), None);
    }

    fn l2t_run(seed: &str, lam: f64, ent: f64) -> Run {
        let mut r = crate::report::frame::tests::run(&[("m", "l2t"), ("seed", seed)], 1.0);
        r.summary.initial_stats = [("entropy.s0.1-2".to_string(), 4.0)].into_iter().collect();
        for e in &mut r.summary.epochs {
            e.stats = [
                ("lambda.s0.1-2".to_string(), lam),
                ("entropy.s0.1-2".to_string(), ent),
                ("lambda.s1.3-0".to_string(), 2.0 * lam),
            ]
            .into_iter()
            .collect();
        }
        r
    }

    #[test]
    fn a_map_is_the_mean_over_runs_of_the_final_lambda_and_entropy_ratio() {
        let (a, b) = (l2t_run("0", 1.0, 4.0), l2t_run("1", 3.0, 2.0));
        let plain = crate::report::frame::tests::run(&[("m", "scratch"), ("seed", "0")], 1.0);
        let m = mean_map(&[&a, &b, &plain]).unwrap();
        assert_eq!(m.n, 2);
        assert_eq!(m.lambda[&(0, 1, 2)], 2.0);
        assert_eq!(m.lambda[&(1, 3, 0)], 4.0);
        assert_eq!(
            m.initial.get(&(0, 1, 2)),
            None,
            "no λ before training was recorded"
        );
        assert_eq!(m.entropy_ratio[&(0, 1, 2)], 0.75);
        assert!(!m.entropy_ratio.contains_key(&(1, 3, 0)));
        assert_eq!(mean_map(&[&plain]), None);
    }

    #[test]
    fn the_shade_runs_from_white_to_dark_blue_and_clamps() {
        assert_eq!(shade(0.0), RGBColor(255, 255, 255));
        assert_eq!(shade(1.0), RGBColor(8, 48, 107));
        assert_eq!(shade(7.0), shade(1.0));
        assert_eq!(shade(f64::NAN), shade(0.0));
    }
}
