//! The report end to end on real run folders: `summary.json` written with serde and
//! `metrics.parquet` with `write_metrics`, known numbers in, hand-computed cells, parsed CSV and
//! decoded PNGs out; and the errors for a missing file or label.

use l2tww::report::{render, write_report, PlotSpec, ReportSpec, RunRef};
use l2tww::transfer::metrics::write_metrics;
use l2tww::transfer::record::{EpochRecord, RunSummary};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const PER_CLASS: [u32; 3] = [100, 25, 50];
const METHODS: [&str; 2] = ["scratch", "l2t-ww"];
/// Seed offsets around a cell's base: mean base + 0.5, sample std sqrt(3.25).
const OFFSETS: [f64; 3] = [-1.0, 0.0, 2.5];

/// The reported test accuracy of a run (at its best validation epoch, epoch 1).
fn acc(per_class: u32, method: &str, seed: usize) -> f64 {
    let base = if method == "scratch" { 30.0 } else { 35.0 };
    base + 10.0 * (per_class as f64 / 25.0).log2() + OFFSETS[seed]
}

/// Writes one run folder and returns its reference.
fn write_run(root: &Path, per_class: u32, method: &str, seed: usize, stats: bool) -> RunRef {
    let dir = root.join(format!("{method}-{per_class}-{seed}"));
    std::fs::create_dir_all(&dir).unwrap();
    let epochs: Vec<EpochRecord> = [10.0, 30.0, 20.0]
        .iter()
        .enumerate()
        .map(|(e, &val)| {
            let mut s = BTreeMap::new();
            if stats {
                for pair in ["4-0", "4-1"] {
                    let k = if pair == "4-0" { 1.0 } else { 2.0 };
                    s.insert(
                        format!("lambda.s0.{pair}"),
                        k * (e as f64 + 1.0) + seed as f64,
                    );
                    s.insert(format!("entropy.s0.{pair}"), 3.0 - 0.5 * e as f64 / k);
                }
            }
            EpochRecord {
                epoch: e,
                lr: 0.1,
                train_loss: 2.0 - e as f64 * 0.5,
                train_acc: 20.0 + e as f64,
                val_acc: val,
                test_acc: Some(if e == 1 {
                    acc(per_class, method, seed)
                } else {
                    5.0
                }),
                seconds: 1.5,
                terms: [("ce".to_string(), 1.0)].into_iter().collect(),
                stats: s,
            }
        })
        .collect();
    let summary = RunSummary::from_epochs(method, seed as u64, "cpu", epochs);
    let labels = [
        ("per_class", per_class.to_string()),
        ("method", method.to_string()),
        ("seed", seed.to_string()),
    ];
    commit_run(dir, &summary, &labels)
}

/// Writes a run folder as `l2tww train` leaves it (`metrics.parquet`, `summary.json`) and
/// returns its reference with `labels`.
pub fn commit_run(dir: PathBuf, summary: &RunSummary, labels: &[(&str, String)]) -> RunRef {
    write_metrics(&dir.join("metrics.parquet"), summary).unwrap();
    let json = serde_json::to_string_pretty(summary).unwrap();
    std::fs::write(dir.join("summary.json"), json).unwrap();
    RunRef {
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        dir,
        provenance: Default::default(),
    }
}

/// The full sweep: 3 sizes × 2 methods × 3 seeds; λ statistics for l2t-ww only.
pub fn sweep(root: &Path) -> Vec<RunRef> {
    let mut runs = Vec::new();
    for pc in PER_CLASS {
        for m in METHODS {
            for seed in 0..3 {
                runs.push(write_run(root, pc, m, seed, m == "l2t-ww"));
            }
        }
    }
    runs
}

pub fn spec() -> ReportSpec {
    serde_yaml_ng::from_str(
        "rows: [per_class]\ncols: [method]\nplot: {x: per_class, line: method}\n",
    )
    .unwrap()
}

/// A CSV file as header + rows (the report quotes nothing in these tests).
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .map(|l| l.split(',').map(String::from).collect::<Vec<_>>());
    let header = lines.next().unwrap();
    (header, lines.collect())
}

#[test]
fn the_cells_hold_the_hand_computed_mean_and_sample_std_over_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = sweep(&tmp.path().join("runs"));
    let out = tmp.path().join("report");
    let r = render(&out, "table", &runs, &spec(), &[]).unwrap();

    let (header, rows) = read_csv(&out.join("table.csv"));
    assert_eq!(
        header,
        [
            "per_class",
            "method",
            "value",
            "mean",
            "std",
            "n",
            "min",
            "max"
        ]
    );
    assert_eq!(rows.len(), 6);
    let std = 3.25f64.sqrt();
    for row in &rows {
        let pc: u32 = row[0].parse().unwrap();
        let base = acc(pc, &row[1], 1);
        let (mean, s, n): (f64, f64, usize) = (
            row[3].parse().unwrap(),
            row[4].parse().unwrap(),
            row[5].parse().unwrap(),
        );
        assert_eq!(row[2], "test_acc");
        assert!((mean - (base + 0.5)).abs() < 1e-9, "{row:?}");
        assert!((s - std).abs() < 1e-9, "{row:?}");
        assert_eq!(n, 3);
        assert_eq!(row[6].parse::<f64>().unwrap(), base - 1.0);
        assert_eq!(row[7].parse::<f64>().unwrap(), base + 2.5);
    }
    // Rows in numeric order (25 < 50 < 100, though 100 came first), methods as listed.
    let order: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("25", "scratch"),
            ("25", "l2t-ww"),
            ("50", "scratch"),
            ("50", "l2t-ww"),
            ("100", "scratch"),
            ("100", "l2t-ww")
        ]
    );

    // The Markdown says value, aggregation and seeds, and shows mean ± std (n).
    let md = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert_eq!(md, r.markdown);
    assert!(
        md.contains("**test_acc**") && md.contains("sample std"),
        "{md}"
    );
    assert!(md.contains("`seed` ∈ {0, 1, 2}"), "{md}");
    assert!(md.contains("| per_class | scratch | l2t-ww |"), "{md}");
    assert!(
        md.contains("| 25 | 30.50 ± 1.80 (3) | 35.50 ± 1.80 (3) |"),
        "{md}"
    );
    let p25 = md.find("| 25 |").unwrap();
    let p50 = md.find("| 50 |").unwrap();
    let p100 = md.find("| 100 |").unwrap();
    assert!(p25 < p50 && p50 < p100);
    assert!(md.contains("![accuracy](accuracy.png)"), "{md}");
}

#[test]
fn runs_csv_has_every_run_and_parses_back() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = sweep(&tmp.path().join("runs"));
    let out = tmp.path().join("report");
    let files = write_report(&out, "t", &runs, &ReportSpec::default(), &[]).unwrap();
    assert!(files.files.contains(&out.join("runs.csv")));
    let (header, rows) = read_csv(&out.join("runs.csv"));
    assert_eq!(rows.len(), 18);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (pc, m, seed, t, secs, best) = (
        col("per_class"),
        col("method"),
        col("seed"),
        col("test_acc"),
        col("seconds"),
        col("best_epoch"),
    );
    for row in &rows {
        let s: usize = row[seed].parse().unwrap();
        let want = acc(row[pc].parse().unwrap(), &row[m], s);
        assert_eq!(row[t].parse::<f64>().unwrap(), want);
        assert_eq!(row[secs].parse::<f64>().unwrap(), 4.5);
        assert_eq!(row[best].parse::<f64>().unwrap(), 1.0);
    }
    // No rows or columns: one cell over all 18 runs.
    let (_, cells) = read_csv(&out.join("t.csv"));
    assert_eq!(cells.len(), 1);
    assert_eq!(cells[0][3], "18");
}

fn decode(path: &Path) -> image::RgbImage {
    let img = image::open(path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (900, 560), "{}", path.display());
    let first = *img.get_pixel(0, 0);
    let distinct: std::collections::BTreeSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    assert!(
        img.pixels().any(|p| *p != first),
        "{} is blank",
        path.display()
    );
    assert!(
        distinct.len() > 8,
        "{} has {} colours",
        path.display(),
        distinct.len()
    );
    img
}

#[test]
fn the_plots_are_valid_pngs_with_content() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = sweep(&tmp.path().join("runs"));
    let out = tmp.path().join("report");
    let r = render(&out, "table", &runs, &spec(), &[]).unwrap();
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    for name in ["accuracy.png", "lambda.png", "entropy.png"] {
        let path = out.join(name);
        assert!(r.files.contains(&path), "{name} not listed");
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        decode(&path);
    }
    // The two methods' lines use the first two colours of the cycle.
    let img = decode(&out.join("accuracy.png"));
    for colour in [[31, 119, 180], [255, 127, 14]] {
        assert!(
            img.pixels().any(|p| p.0 == colour),
            "no line of colour {colour:?}"
        );
    }
}

#[test]
fn runs_without_lambda_statistics_skip_those_plots_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let runs: Vec<RunRef> = (0..2)
        .map(|s| write_run(&tmp.path().join("runs"), 25, "scratch", s, false))
        .collect();
    let out = tmp.path().join("report");
    let mut spec = spec();
    spec.cols.clear();
    let r = render(&out, "t", &runs, &spec, &[]).unwrap();
    assert!(out.join("accuracy.png").exists());
    assert!(!out.join("lambda.png").exists() && !out.join("entropy.png").exists());
    assert_eq!(r.notes.len(), 2, "{:?}", r.notes);
    assert!(r.notes[0].contains("lambda.png"), "{:?}", r.notes);
    assert!(
        r.markdown.contains("lambda.png not drawn"),
        "{}",
        r.markdown
    );
}

#[test]
fn chosen_curves_are_the_runs_matching_the_filter() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = sweep(&tmp.path().join("runs"));
    let out = tmp.path().join("report");
    let mut spec = spec();
    spec.plot = Some(PlotSpec {
        x: "per_class".into(),
        line: "method".into(),
        curves: Some([("method".into(), "scratch".into())].into_iter().collect()),
    });
    let r = render(&out, "t", &runs, &spec, &[]).unwrap();
    assert_eq!(r.notes.len(), 2);
    assert!(
        r.notes[1].contains("method=scratch (mean of 9 runs)"),
        "{:?}",
        r.notes
    );
}

#[test]
fn a_missing_or_bad_summary_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let mut runs = sweep(&tmp.path().join("runs"));
    let gone = runs[4].dir.join("summary.json");
    std::fs::remove_file(&gone).unwrap();
    let msg = render(tmp.path(), "t", &runs, &spec(), &[])
        .unwrap_err()
        .to_string();
    assert!(msg.contains(&gone.display().to_string()), "{msg}");

    std::fs::write(&gone, "{\"method\": 3}").unwrap();
    let msg = render(tmp.path(), "t", &runs, &spec(), &[])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&gone.display().to_string()) && msg.contains("summary"),
        "{msg}"
    );

    runs.truncate(0);
    assert!(render(tmp.path(), "t", &runs, &spec(), &[]).is_err());
}

#[test]
fn a_label_no_run_has_is_an_error_listing_the_labels_that_exist() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = sweep(&tmp.path().join("runs"));
    let spec: ReportSpec = serde_yaml_ng::from_str("rows: [per_clas]\ncols: [method]").unwrap();
    let msg = render(tmp.path(), "t", &runs, &spec, &[])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("`per_clas`"), "{msg}");
    assert!(msg.contains("method, per_class, seed"), "{msg}");
}

/// Writes a LogME table as the LogME stage does.
fn write_logme(path: &Path, source: &str, rows: &[(&str, f64)]) {
    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;
    let schema = Arc::new(Schema::new(vec![
        Field::new("source", DataType::Utf8, false),
        Field::new("layer", DataType::Utf8, false),
        Field::new("logme", DataType::Float64, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![source; rows.len()])),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.1))),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn a_logme_ranking_adds_a_table_and_its_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = sweep(&tmp.path().join("runs"));
    let (a, b): (PathBuf, PathBuf) = (tmp.path().join("a.parquet"), tmp.path().join("b.parquet"));
    write_logme(&a, "resnet20", &[("blocks1", 0.25), ("blocks2", 0.75)]);
    write_logme(&b, "resnet32", &[("blocks2", 0.5)]);
    let logme = vec![("resnet20".to_string(), a), ("resnet32".to_string(), b)];
    let out = tmp.path().join("report");
    let r = render(&out, "t", &runs, &spec(), &logme).unwrap();
    assert!(
        r.markdown.contains("| source | layer | LogME | rank |"),
        "{}",
        r.markdown
    );
    assert!(
        r.markdown.contains("| resnet20 | blocks2 | 0.7500 | 1 |"),
        "{}",
        r.markdown
    );
    let (header, rows) = read_csv(&out.join("logme.csv"));
    assert_eq!(header, ["source", "layer", "logme", "rank"]);
    let got: Vec<(&str, &str, f64, &str)> = rows
        .iter()
        .map(|r| {
            (
                r[0].as_str(),
                r[1].as_str(),
                r[2].parse().unwrap(),
                r[3].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("resnet20", "blocks2", 0.75, "1"),
            ("resnet32", "blocks2", 0.5, "2"),
            ("resnet20", "blocks1", 0.25, "3")
        ]
    );
}
