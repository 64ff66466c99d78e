//! Writing a report into a folder, every file atomically: `<name>.md` (the table, the paired
//! differences against the baseline, the agreement of the learned λ with the baseline's, the
//! meta-networks' movement, the LogME ranking and the plots when there are some), `<name>.csv`
//! (tidy: one row per cell), `<name>-paired.csv`, `<name>-agreement.csv`, `<name>-meta.csv`, `runs.csv` (one row per run), `logme.csv`, the PNG plots, and `index.html`
//! (all of it on one self-contained page).

use crate::error::{Error, Result};
use crate::fsx;
use crate::report::agreement::{agreement, agreement_csv, agreement_markdown};
use crate::report::comparison::{movement_csv, movement_markdown, paired_csv, paired_markdown};
use crate::report::csv::{number, CsvText};
use crate::report::frame::{load_runs, polars_error, runs_frame, Run};
use crate::report::logme::rank;
use crate::report::markdown::{logme_markdown, pivot_markdown};
use crate::report::movement::movement;
use crate::report::paired::{baselines_of, paired};
use crate::report::plots::draw_plots;
use crate::report::spec::ReportSpec;
use crate::report::table::{pivot, Pivot};
use crate::report::RunRef;
use polars::prelude::{DataFrame, DataType};
use std::path::{Path, PathBuf};

/// What [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFiles {
    /// The Markdown text (also in `<name>.md`), for the caller to print.
    pub markdown: String,
    /// Every file written, `<name>.md` first.
    pub files: Vec<PathBuf>,
}

/// What [`render`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The Markdown text (also in `<name>.md`), for the caller to print.
    pub markdown: String,
    /// Every file written, `<name>.md` first.
    pub files: Vec<PathBuf>,
    /// Plots that were skipped, and why.
    pub notes: Vec<String>,
}

/// Writes the tables of `runs` into `dir`: `<name>.md`, `<name>.csv`, `runs.csv`, and with
/// `logme` tables (source label, `logme.parquet`) the ranking and `logme.csv`. The tables
/// alone: `spec.plot` is left to [`render`].
pub fn write_report(
    dir: &Path,
    name: &str,
    runs: &[RunRef],
    spec: &ReportSpec,
    logme: &[(String, PathBuf)],
) -> Result<ReportFiles> {
    let loaded = load_runs(runs)?;
    let (markdown, mut files) = tables(dir, name, &loaded, spec, logme)?;
    let md = dir.join(format!("{name}.md"));
    fsx::write_atomic(&md, markdown.as_bytes())?;
    files.insert(0, md);
    Ok(ReportFiles { markdown, files })
}

/// The whole report: the tables of [`write_report`] and, with `spec.plot`, the plots, all
/// referenced from `<name>.md` and on `index.html` (titled `name`).
pub fn render(
    dir: &Path,
    name: &str,
    runs: &[RunRef],
    spec: &ReportSpec,
    logme: &[(String, PathBuf)],
) -> Result<Rendered> {
    render_titled(dir, name, name, runs, spec, logme)
}

/// [`render`] with the page's title given (the pipeline's name and the report's, say).
pub fn render_titled(
    dir: &Path,
    name: &str,
    title: &str,
    runs: &[RunRef],
    spec: &ReportSpec,
    logme: &[(String, PathBuf)],
) -> Result<Rendered> {
    let loaded = load_runs(runs)?;
    let (mut markdown, mut files) = tables(dir, name, &loaded, spec, logme)?;
    let mut notes = Vec::new();
    if let Some(plot) = &spec.plot {
        let plotted = draw_plots(dir, &loaded, spec, plot)?;
        markdown.push('\n');
        if !plotted.markdown.is_empty() {
            markdown.push_str(&plotted.markdown);
            markdown.push('\n');
        }
        for f in &plotted.files {
            let file = f
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            let stem = file.trim_end_matches(".png");
            markdown.push_str(&format!("![{stem}]({file})\n"));
        }
        for n in &plotted.notes {
            markdown.push_str(&format!("\n_{n}._\n"));
        }
        files.extend(plotted.files);
        notes = plotted.notes;
    }
    let md = dir.join(format!("{name}.md"));
    fsx::write_atomic(&md, markdown.as_bytes())?;
    let page = dir.join("index.html");
    let html = crate::report::html::index_html(title, &markdown, dir, &loaded)?;
    fsx::write_atomic(&page, html.as_bytes())?;
    files.insert(0, md);
    files.push(page);
    Ok(Rendered {
        markdown,
        files,
        notes,
    })
}

/// The tables' Markdown, with the CSV files written.
fn tables(
    dir: &Path,
    name: &str,
    runs: &[Run],
    spec: &ReportSpec,
    logme: &[(String, PathBuf)],
) -> Result<(String, Vec<PathBuf>)> {
    check_name(name)?;
    if runs.is_empty() {
        return Err(Error::Invalid(format!("the report `{name}` has no runs")));
    }
    let p = pivot(runs, spec)?;
    let mut markdown = pivot_markdown(&p);
    let mut files = Vec::new();
    let cells = dir.join(format!("{name}.csv"));
    fsx::write_atomic(&cells, cells_csv(&p).as_bytes())?;
    files.push(cells);
    let mut tables = Vec::new();
    let mut agreements = Vec::new();
    for baseline in baselines_of(runs, spec)? {
        let pd = paired(runs, spec, &baseline)?;
        // Only baseline runs: nothing to compare.
        if !pd.cells.is_empty() || pd.unpaired > 0 {
            markdown.push('\n');
            markdown.push_str(&paired_markdown(&pd));
            tables.push(pd);
        }
        agreements.extend(agreement(runs, spec, &baseline)?);
    }
    if let Some(csv) = paired_csv(&tables) {
        let path = dir.join(format!("{name}-paired.csv"));
        fsx::write_atomic(&path, csv.as_bytes())?;
        files.push(path);
    }
    for a in &agreements {
        markdown.push('\n');
        markdown.push_str(&agreement_markdown(spec, a));
    }
    if let Some(csv) = agreement_csv(spec, &agreements) {
        let path = dir.join(format!("{name}-agreement.csv"));
        fsx::write_atomic(&path, csv.as_bytes())?;
        files.push(path);
    }
    let moved = movement(runs, spec)?;
    if !moved.is_empty() {
        markdown.push('\n');
        markdown.push_str(&movement_markdown(spec, &moved));
        let path = dir.join(format!("{name}-meta.csv"));
        fsx::write_atomic(&path, movement_csv(spec, &moved).as_bytes())?;
        files.push(path);
    }
    let all = dir.join("runs.csv");
    fsx::write_atomic(&all, frame_csv(&runs_frame(runs)?)?.as_bytes())?;
    files.push(all);
    if !logme.is_empty() {
        let ranked = rank(logme)?;
        markdown.push('\n');
        markdown.push_str(&logme_markdown(&ranked));
        let mut csv = CsvText::with_header(&["source", "layer", "logme", "rank"]);
        for r in &ranked {
            csv.row(&[
                r.source.clone(),
                r.layer.clone(),
                number(Some(r.logme)),
                r.rank.to_string(),
            ]);
        }
        let path = dir.join("logme.csv");
        fsx::write_atomic(&path, csv.into_string().as_bytes())?;
        files.push(path);
    }
    Ok((markdown, files))
}

/// A report name must be a plain file stem that does not clash with the fixed files.
fn check_name(name: &str) -> Result<()> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.".contains(c));
    if !plain || name == "runs" || name == "logme" || name == "index" {
        return Err(Error::Invalid(format!(
            "the report name `{name}` must be a plain file name (letters, digits, - _ .), \
             other than `runs`, `logme` and `index`"
        )));
    }
    Ok(())
}

/// The tidy table: one row per cell with the row and column labels, the value's name, mean,
/// std (empty when n < 2), n, min and max.
pub fn cells_csv(p: &Pivot) -> String {
    let mut header: Vec<String> = p.spec.rows.iter().chain(&p.spec.cols).cloned().collect();
    header.extend(["value", "mean", "std", "n", "min", "max"].map(String::from));
    let mut csv = CsvText::with_header(&header);
    for c in &p.cells {
        let mut row: Vec<String> = c.row.iter().chain(&c.col).cloned().collect();
        row.push(p.spec.value.column().to_string());
        row.push(number(Some(c.mean)));
        row.push(number(c.std));
        row.push(c.n.to_string());
        row.push(number(Some(c.min)));
        row.push(number(Some(c.max)));
        csv.row(&row);
    }
    csv.into_string()
}

/// A DataFrame of text and float columns as CSV.
pub fn frame_csv(df: &DataFrame) -> Result<String> {
    let header: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut columns: Vec<Vec<String>> = Vec::new();
    for col in df.columns() {
        let values = if col.dtype() == &DataType::String {
            let s = col.str().map_err(polars_error)?;
            s.iter().map(|v| v.unwrap_or("").to_string()).collect()
        } else {
            let f = col.cast(&DataType::Float64).map_err(polars_error)?;
            f.f64().map_err(polars_error)?.iter().map(number).collect()
        };
        columns.push(values);
    }
    let mut csv = CsvText::with_header(&header);
    for i in 0..df.height() {
        let row: Vec<&str> = columns.iter().map(|c| c[i].as_str()).collect();
        csv.row(&row);
    }
    Ok(csv.into_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_that_would_escape_the_folder_or_clash_are_refused() {
        for bad in ["", "../x", "a/b", ".hidden", "runs", "logme", "index"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_name("table-1_v2.final").is_ok());
    }
}
