//! Multi-source reports: the mean λ of each source's pairs over the epochs gets its own plot,
//! its lines named after the runs' `sources` label; one-source runs get none.

use l2tww::report::{render, ReportSpec, RunRef};
use l2tww::transfer::record::{EpochRecord, RunSummary};
use std::collections::BTreeMap;
use std::path::Path;

fn write_run(root: &Path, sources: &str, seed: u64) -> RunRef {
    let dir = root.join(format!("{sources}-{seed}"));
    std::fs::create_dir_all(&dir).unwrap();
    let n = sources.split('+').count();
    let epochs = (0..3)
        .map(|e| {
            let mut stats = BTreeMap::new();
            for s in 0..n {
                for pair in ["4-0", "9-1"] {
                    let lam = 1.0 + (s as f64 - 0.5) * 0.2 * e as f64;
                    stats.insert(format!("lambda.s{s}.{pair}"), lam);
                    stats.insert(format!("entropy.s{s}.{pair}"), 2.0);
                }
            }
            EpochRecord {
                epoch: e,
                lr: 0.1,
                train_loss: 1.0,
                train_acc: 50.0,
                val_acc: e as f64,
                test_acc: Some(40.0 + seed as f64),
                seconds: 1.0,
                terms: BTreeMap::new(),
                stats,
            }
        })
        .collect();
    let summary = RunSummary::from_epochs("l2t-ww", seed, "cpu", epochs);
    let labels = [("sources", sources.to_string()), ("seed", seed.to_string())];
    crate::report::commit_run(dir, &summary, &labels)
}

fn spec(curves: &str) -> ReportSpec {
    serde_yaml_ng::from_str(&format!(
        "rows: [sources]\nplot: {{x: sources, line: seed, curves: {{sources: {curves}}}}}\n"
    ))
    .unwrap()
}

#[test]
fn two_source_runs_get_a_plot_of_each_sources_mean_lambda() {
    let tmp = tempfile::tempdir().unwrap();
    let runs: Vec<RunRef> = (0..2)
        .flat_map(|s| {
            [
                write_run(tmp.path(), "a", s),
                write_run(tmp.path(), "a+b", s),
            ]
        })
        .collect();
    let out = tmp.path().join("two");
    let r = render(&out, "t", &runs, &spec("a+b"), &[]).unwrap();
    let path = out.join("lambda-by-source.png");
    assert!(r.files.contains(&path), "{:?}", r.files);
    let img = image::open(&path).unwrap().to_rgb8();
    // Two lines in the first two colours of the cycle.
    for colour in [[31, 119, 180], [255, 127, 14]] {
        assert!(
            img.pixels().any(|p| p.0 == colour),
            "no line of colour {colour:?}"
        );
    }
    let out = tmp.path().join("one");
    let r = render(&out, "t", &runs, &spec("a"), &[]).unwrap();
    assert!(!out.join("lambda-by-source.png").exists() && out.join("lambda.png").exists());
    assert!(!r.files.iter().any(|f| f.ends_with("lambda-by-source.png")));
}
