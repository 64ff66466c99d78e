//! The report's paired differences and meta-network movement end to end: run folders with
//! known numbers in (`summary.json` and `metrics.parquet` as the engine writes them), the paired
//! table (hand-computed mean and t-interval), its CSV and plot, and the movement of λ and w.

use l2tww::report::{render, ReportSpec, RunRef};
use l2tww::transfer::record::{EpochRecord, RunSummary};
use std::collections::BTreeMap;
use std::path::Path;

/// One run whose reported test accuracy is `acc`; L2T runs get λ and w statistics that move
/// from (1.0, ln 4) to (1.0 + shift, 0.5·ln 4).
fn write_run(root: &Path, size: u32, method: &str, seed: u32, acc: f64, shift: f64) -> RunRef {
    let dir = root.join(format!("{method}-{size}-{seed}"));
    std::fs::create_dir_all(&dir).unwrap();
    let l2t = method.starts_with("l2t");
    let h0 = 4f64.ln();
    let stats = |e: f64| -> BTreeMap<String, f64> {
        if !l2t {
            return BTreeMap::new();
        }
        [
            ("lambda.s0.4-0".to_string(), 1.0 + shift * e),
            ("entropy.s0.4-0".to_string(), h0 * (1.0 - 0.5 * e)),
        ]
        .into_iter()
        .collect()
    };
    let epochs = (0..2)
        .map(|e| EpochRecord {
            epoch: e,
            lr: 0.1,
            train_loss: 1.0,
            train_acc: 50.0,
            val_acc: 10.0 * e as f64,
            test_acc: Some(if e == 1 { acc } else { 0.0 }),
            seconds: 1.0,
            terms: BTreeMap::new(),
            stats: stats(e as f64),
        })
        .collect();
    let mut summary = RunSummary::from_epochs(method, seed as u64, "cpu", epochs);
    summary.initial_stats = stats(0.0);
    let labels = [
        ("size", size.to_string()),
        ("method", method.to_string()),
        ("seed", seed.to_string()),
    ];
    crate::report::commit_run(dir, &summary, &labels)
}

/// Sizes 25 and 50, seeds 0–2: l2t-ww is 10, 12, 8 points above scratch at 25 (significant)
/// and 1, −1, 0 at 50 (not); fm is equal to scratch.
fn runs(root: &Path) -> Vec<RunRef> {
    let mut v = Vec::new();
    for seed in 0..3u32 {
        let s = seed as usize;
        for (size, base, gain) in [
            (25, 40.0, [10.0, 12.0, 8.0][s]),
            (50, 60.0, [1.0, -1.0, 0.0][s]),
        ] {
            let b = base + seed as f64;
            v.push(write_run(root, size, "scratch", seed, b, 0.0));
            v.push(write_run(root, size, "fm", seed, b, 0.0));
            v.push(write_run(
                root,
                size,
                "l2t-ww",
                seed,
                b + gain,
                0.1 * (seed + 1) as f64,
            ));
        }
    }
    v
}

fn spec(extra: &str) -> ReportSpec {
    serde_yaml_ng::from_str(&format!(
        "rows: [size]\ncols: [method]\nplot: {{x: size, line: method}}\n{extra}"
    ))
    .unwrap()
}

#[test]
fn the_paired_table_holds_mean_differences_with_their_t_intervals() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let r = render(&out, "t", &runs(&tmp.path().join("runs")), &spec(""), &[]).unwrap();
    // 25: differences 10, 12, 8 → mean 10, s 2, half-width t(0.975, 2)·2/√3 = 4.968.
    assert!(
        r.markdown.contains("against `method=scratch`")
            && r.markdown.contains("matched on `seed` and `size`"),
        "{}",
        r.markdown
    );
    assert!(
        r.markdown
            .contains("| 25 | +0.00 [+0.00, +0.00] (3) | **+10.00 [+5.03, +14.97] (3)** |"),
        "{}",
        r.markdown
    );
    assert!(
        r.markdown
            .contains("| 50 | +0.00 [+0.00, +0.00] (3) | +0.00 [-2.48, +2.48] (3) |"),
        "{}",
        r.markdown
    );
    let csv = std::fs::read_to_string(out.join("t-paired.csv")).unwrap();
    let row = csv.lines().find(|l| l.starts_with("25,l2t-ww,")).unwrap();
    let f: Vec<&str> = row.split(',').collect();
    assert_eq!(&f[2..5], ["test_acc", "method=scratch", "10"]);
    let (lo, hi): (f64, f64) = (f[7].parse().unwrap(), f[8].parse().unwrap());
    assert!(
        (lo - (10.0 - 4.302653 * 2.0 / 3f64.sqrt())).abs() < 1e-4,
        "{row}"
    );
    assert!(
        (hi - (10.0 + 4.302653 * 2.0 / 3f64.sqrt())).abs() < 1e-4,
        "{row}"
    );
    assert_eq!(f[9], "true");
    assert!(
        csv.lines()
            .any(|l| l.starts_with("50,l2t-ww,") && l.ends_with(",false")),
        "{csv}"
    );
    let img = image::open(out.join("paired.png")).unwrap().to_rgb8();
    assert!(img.pixels().any(|p| p.0 != [255, 255, 255]));
    assert!(
        r.markdown.contains("![paired](paired.png)"),
        "{}",
        r.markdown
    );
}

#[test]
fn another_baseline_and_none_are_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = runs(&tmp.path().join("runs"));
    let out = tmp.path().join("a");
    let r = render(&out, "t", &runs, &spec("baseline: fm\n"), &[]).unwrap();
    assert!(r.markdown.contains("against `method=fm`"), "{}", r.markdown);
    let out = tmp.path().join("b");
    let r = render(&out, "t", &runs, &spec("baseline: none\n"), &[]).unwrap();
    assert!(!r.markdown.contains("Paired difference"), "{}", r.markdown);
    assert!(!out.join("t-paired.csv").exists() && !out.join("paired.png").exists());
    let err = render(
        &tmp.path().join("c"),
        "t",
        &runs,
        &spec("baseline: nope\n"),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("method=nope"), "{err}");
}

#[test]
fn the_movement_of_lambda_and_w_is_reported_for_l2t_runs_only() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let r = render(&out, "t", &runs(&tmp.path().join("runs")), &spec(""), &[]).unwrap();
    // |Δλ| after the last epoch: 0.1, 0.2, 0.3 → 0.200 ± 0.100; entropy halves: 0.500 ± 0.000.
    assert!(
        r.markdown
            .contains("| 25 | 0.200 ± 0.100 · 0.500 ± 0.000 (3) |"),
        "{}",
        r.markdown
    );
    let csv = std::fs::read_to_string(out.join("t-meta.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(
        csv.lines()
            .all(|l| !l.contains("scratch") && !l.contains(",fm,")),
        "{csv}"
    );
}

#[test]
fn a_list_of_baselines_gives_a_paired_table_for_each_in_one_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = runs(&tmp.path().join("runs"));
    let out = tmp.path().join("r");
    let r = render(&out, "t", &runs, &spec("baseline: [scratch, fm]"), &[]).unwrap();
    let first = r
        .markdown
        .find("against `method=scratch`")
        .expect("scratch first");
    let second = r.markdown.find("against `method=fm`").expect("then fm");
    assert!(first < second, "{}", r.markdown);
    let csv = std::fs::read_to_string(out.join("t-paired.csv")).unwrap();
    assert_eq!(
        csv.lines().filter(|l| l.starts_with("size,")).count(),
        1,
        "{csv}"
    );
    // l2t-ww against each: fm equals scratch in these runs, so the two rows agree.
    let rows: Vec<&str> = csv
        .lines()
        .filter(|l| l.starts_with("25,l2t-ww,"))
        .collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(
        rows[0].contains(",method=scratch,10,") && rows[1].contains(",method=fm,10,"),
        "{csv}"
    );
    // Against fm, scratch is a compared method; against scratch, fm is.
    assert!(csv
        .lines()
        .any(|l| l.starts_with("25,scratch,") && l.contains("method=fm")));
}
