//! `l2tww bench` of the L2T-ww iteration end to end: `--phases` splits each mode's iteration
//! into the phases it runs (the look-ahead steps, the Hessian-vector products, the forward-mode
//! pass …) whose times add up to the iteration's, and several modes are timed one process each.

use crate::util::{l2tww, text};
use serde_json::Value;

/// `l2tww bench` on the CPU at batch 4 with `args` (space-separated); its last line.
fn bench(args: &str) -> Value {
    let mut all = vec!["--device", "cpu", "--threads", "1", "bench", "--batch", "4"];
    all.extend(args.split_whitespace());
    let r = l2tww(&all);
    let (stdout, stderr) = text(&r);
    assert!(r.status.success(), "{stderr}");
    let last = stdout.lines().last().expect("a JSON line");
    serde_json::from_str(last).unwrap()
}

fn phase_names(mode: &Value) -> Vec<String> {
    mode["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .map(|p| p["phase"].as_str().unwrap().to_string())
        .collect()
}

fn assert_phases_add_up(mode: &Value, scratch_ms: f64) {
    let phases = mode["phases"].as_array().unwrap();
    let sum: f64 = phases.iter().map(|p| p["ms"].as_f64().unwrap()).sum();
    let ms = mode["ms"].as_f64().unwrap();
    // One measured iteration: the medians are its values, so they add up exactly.
    assert!(
        (sum - ms).abs() <= 1e-6 * ms,
        "phases add to {sum}, the iteration took {ms}"
    );
    for p in phases {
        let (ms, steps) = (
            p["ms"].as_f64().unwrap(),
            p["plain_steps"].as_f64().unwrap(),
        );
        assert!(
            (steps - ms / scratch_ms).abs() <= 1e-9 * steps.abs().max(1.0),
            "{p}"
        );
        if p["phase"] != "glue" {
            assert!(ms > 0.0, "{p}");
        }
    }
}

#[test]
fn phases_split_the_exact_and_first_order_iterations_into_their_steps() {
    let v = bench("--mode exact --meta-every 1 --iters 1 --phases");
    let exact = &v["modes"][0];
    assert_eq!(
        phase_names(exact),
        [
            "sources' forward",
            "live step (forward, backward, SGD)",
            "look-ahead step 1 (WFM)",
            "look-ahead step 2 (WFM)",
            "look-ahead step 3 (CE)",
            "outer CE's forward",
            "outer CE's gradient",
            "Hessian-vector product of step 3",
            "Hessian-vector product of step 2",
            "mixed term of step 1 (forward mode)",
            "meta optimizer's step",
            "glue",
        ]
    );
    assert_phases_add_up(exact, v["scratch_ms"].as_f64().unwrap());

    // First order: no Hessian-vector product, a forward-mode pass for every WFM step; with a
    // meta step every second batch the live step is counted per batch, the meta step's phases
    // once per two.
    let v = bench("--mode first-order --meta-every 2 --iters 1 --T 2 --phases");
    let fo = &v["modes"][0];
    let names = phase_names(fo);
    assert!(!names.iter().any(|n| n.starts_with("Hessian")), "{names:?}");
    for want in [
        "mixed term of step 2 (forward mode)",
        "mixed term of step 1 (forward mode)",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    assert_phases_add_up(fo, v["scratch_ms"].as_f64().unwrap());
    // Without --phases there is no breakdown.
    let v = bench("--mode exact --meta-every 1 --iters 1 --T 1");
    assert!(v["modes"][0].get("phases").is_none(), "{v}");
}

#[test]
fn several_modes_are_timed_one_process_each() {
    let v = bench("--iters 1 --T 1");
    let modes = v["modes"].as_array().unwrap();
    let names: Vec<&str> = modes.iter().map(|m| m["mode"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "exact",
            "first-order",
            "exact, meta-every 2",
            "first-order, meta-every 2"
        ]
    );
    let mut plain = Vec::new();
    for m in modes {
        // Each mode's ratio is to the plain step of its own process, whose peak memory it reports.
        let own = m["scratch_ms"].as_f64().expect("its own plain step");
        assert!((m["ratio"].as_f64().unwrap() - m["ms"].as_f64().unwrap() / own).abs() < 1e-9);
        assert!(m["peak_rss_mb"].as_f64().unwrap() > 0.0, "{m}");
        plain.push(own);
    }
    plain.sort_by(f64::total_cmp);
    assert_eq!(
        v["scratch_ms"].as_f64().unwrap(),
        plain[2],
        "the median of the four"
    );
    assert_eq!(v["ratio"], modes[0]["ratio"]);
    let max = modes
        .iter()
        .map(|m| m["peak_rss_mb"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert_eq!(v["peak_rss_mb"].as_f64().unwrap(), max);
}

#[test]
fn training_batches_reuse_freed_memory_instead_of_faulting_it_in_again() {
    // Each exact iteration frees and reallocates its activations, gradients and graphs. When the
    // allocator handed them back to the kernel, a batch at this size took 35 000–81 000 fresh
    // (zeroed) pages, the median of four batches in each of four runs; kept by the process,
    // 19–7 000, the rest from the heap still growing over the first batches.
    let v = bench("--mode exact --meta-every 1 --iters 4");
    let faults = v["modes"][0]["page_faults"].as_f64().expect("page_faults");
    assert!(
        (0.0..20_000.0).contains(&faults),
        "{faults} page faults per batch: freed memory went back to the kernel"
    );
}

/// `l2tww bench` of the exact iteration, CPU, batch 2, T = 1, one iteration, `rounds` rounds
/// beside the shell command `beside`: its stdout and stderr.
fn bench_beside(rounds: usize, beside: &str) -> (String, String) {
    let rounds = rounds.to_string();
    let mut args = vec!["--device", "cpu", "--threads", "1", "bench", "--batch", "2"];
    args.extend([
        "--mode",
        "exact",
        "--meta-every",
        "1",
        "--iters",
        "1",
        "--T",
        "1",
    ]);
    args.extend(["--rounds", &rounds, "--beside", beside]);
    let r = l2tww(&args);
    let (stdout, stderr) = text(&r);
    assert!(r.status.success(), "{stderr}");
    (stdout, stderr)
}

#[test]
fn rounds_beside_an_outside_command_end_with_their_ratio_round_by_round() {
    // The outside "loop" takes 1000 ms in its first round, 3000 in its second, 2000 in its third
    // (a counter in a file), and prints other lines before its JSON one.
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("n");
    let cmd = format!(
        "n=$(cat {c} 2>/dev/null || echo 0); n=$((n + 1)); echo $n > {c}; \
         echo warming up; echo \"{{\\\"l2tww_ms\\\": $(( n == 1 ? 1000 : (n == 2 ? 3000 : 2000) ))}}\"",
        c = counter.display()
    );
    let (stdout, _) = bench_beside(3, &cmd);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        7,
        "three rounds of two lines and the summary: {stdout}"
    );
    let ours: Vec<f64> = lines
        .iter()
        .filter(|l| l.get("modes").is_some())
        .map(|l| l["l2tww_ms"].as_f64().unwrap())
        .collect();
    let theirs = [1000.0, 3000.0, 2000.0];
    for (i, t) in theirs.iter().enumerate() {
        assert_eq!(lines[2 * i + 1]["beside"]["l2tww_ms"].as_f64(), Some(*t));
    }
    let s = &lines[6]["summary"];
    assert_eq!(s["rounds"], 3);
    let per_round: Vec<f64> = s["per_round"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    // serde_json reads floats back to within an ulp or so, not always exactly.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs();
    let want: Vec<f64> = ours.iter().zip(theirs).map(|(a, b)| a / b).collect();
    assert_eq!(per_round.len(), 3);
    for (got, want) in per_round.iter().zip(&want) {
        assert!(
            close(*got, *want),
            "each round's own ratio: {per_round:?} against {want}"
        );
    }
    let mut sorted = want.clone();
    sorted.sort_by(f64::total_cmp);
    let ratio = &s["l2tww_over_beside"];
    for (key, want) in [
        ("min", sorted[0]),
        ("median", sorted[1]),
        ("max", sorted[2]),
    ] {
        assert!(close(ratio[key].as_f64().unwrap(), want), "{key}: {ratio}");
    }
    assert!(
        close(s["beside_ms"]["median"].as_f64().unwrap(), 2000.0),
        "{s}"
    );
    // The outside lines give no plain step and no peak memory: those fields are left out.
    assert!(
        s.get("plain_steps").is_none() && s.get("peak_rss_mb").is_none(),
        "{s}"
    );

    // A harness that gives them: each side's plain steps and largest peak memory.
    let line = r#"{"l2tww_ms": 900, "ratio": 16.5, "peak_rss_mb": 99999}"#;
    let (stdout, _) = bench_beside(2, &format!("echo '{line}'"));
    let last: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let s = &last["summary"];
    let ours: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l.get("modes").is_some())
        .collect();
    let our_steps: Vec<f64> = ours.iter().map(|l| l["ratio"].as_f64().unwrap()).collect();
    let want = (our_steps[0] + our_steps[1]) / 2.0;
    assert!(
        close(s["plain_steps"]["l2tww"]["median"].as_f64().unwrap(), want),
        "{s}"
    );
    assert!(
        close(s["plain_steps"]["beside"]["median"].as_f64().unwrap(), 16.5),
        "{s}"
    );
    let peak = ours
        .iter()
        .map(|l| l["peak_rss_mb"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(
        close(s["peak_rss_mb"]["l2tww"].as_f64().unwrap(), peak),
        "{s}"
    );
    assert!(
        close(s["peak_rss_mb"]["beside"].as_f64().unwrap(), 99999.0),
        "{s}"
    );

    // An outside line without `l2tww_ms`: the rounds are reported, no summary, a note says why.
    let (stdout, stderr) = bench_beside(1, "echo '{\"ms\": 5}'");
    assert!(!stdout.contains("summary"), "{stdout}");
    assert!(stderr.contains("l2tww_ms"), "{stderr}");
}
