//! Evaluation in the loop: by default the test split is evaluated once, at the end, for the
//! weights of the best validation epoch (kept since that epoch, in memory and in the checkpoint)
//! and for the last epoch's — the same numbers as testing after every epoch, fewer passes; and
//! the meta-networks' statistics are taken before training, so a run says how far they moved.

use crate::util::{quadrants, SERIAL};
use l2tww::models::{Arch, Model};
use l2tww::transfer::engine::{
    EvalConfig, OptimConfig, Quiet, RunData, Schedule, TensorBatches, TestEval, Trainer,
};
use l2tww::transfer::methods::{BuildContext, MethodSpec};
use l2tww::transfer::record::RunSummary;
use std::path::PathBuf;
use tch::{Device, Kind};

fn train(
    spec: &str,
    sources: &[Model],
    test: TestEval,
    checkpoint: Option<PathBuf>,
    stop_after: Option<usize>,
) -> RunSummary {
    let spec: MethodSpec = serde_yaml_ng::from_str(spec).unwrap();
    tch::manual_seed(3);
    let target = Model::new(Arch::Vgg9Bn, 4, Device::Cpu, Kind::Float).unwrap();
    crate::util::deterministic_init(&target.vs, 3);
    let ctx = BuildContext {
        target: &target,
        sources,
        input: 32,
        device: Device::Cpu,
        kind: Kind::Float,
        momentum: 0.9,
    };
    let mut method = spec.build(&ctx).unwrap();
    let (x, y) = quadrants(24, 5);
    let (vx, vy) = quadrants(16, 6);
    let (tx, ty) = quadrants(16, 7);
    let train = TensorBatches::new(x, y, 8).shuffled(9).drop_last(true);
    let val = TensorBatches::new(vx, vy, 8);
    let test_data = TensorBatches::new(tx, ty, 8);
    let mut trainer = Trainer {
        target: &target,
        sources,
        method: method.as_mut(),
        optim: OptimConfig {
            epochs: 4,
            lr: 0.05,
            schedule: Schedule::Constant,
            ..Default::default()
        },
        eval: EvalConfig { test },
        seed: 3,
        checkpoint,
        fingerprint: format!("{spec:?}{test:?}"),
        stop_after,
    };
    trainer
        .fit(
            RunData {
                train: &train,
                val: &val,
                test: &test_data,
                train_eval: None,
            },
            &mut Quiet,
        )
        .unwrap()
}

#[test]
fn testing_the_best_epoch_at_the_end_reports_what_testing_every_epoch_reports() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let every = train("scratch", &[], TestEval::EveryEpoch, None, None);
    let best = train("scratch", &[], TestEval::Best, None, None);
    assert!(every.epochs.iter().all(|e| e.test_acc.is_some()));
    // The best validation epoch is not the last here, so its weights had to be kept.
    let last = every.epochs.len();
    assert_eq!(
        every.epochs.last().unwrap().epoch,
        last,
        "epochs count from 1"
    );
    assert_ne!(every.best_epoch, last, "{:?}", every.epochs);
    let tested: Vec<usize> = best
        .epochs
        .iter()
        .filter(|e| e.test_acc.is_some())
        .map(|e| e.epoch)
        .collect();
    let mut expected = vec![every.best_epoch, last];
    expected.dedup();
    expected.sort();
    assert_eq!(tested, expected);
    assert_eq!(
        (best.best_epoch, best.test_acc, best.final_test_acc),
        (every.best_epoch, every.test_acc, every.final_test_acc)
    );
    for (a, b) in best.epochs.iter().zip(&every.epochs) {
        assert_eq!((a.val_acc, a.train_loss), (b.val_acc, b.train_loss));
    }
}

#[test]
fn a_resumed_run_tests_the_best_epoch_it_kept_in_its_checkpoint() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let whole = train("scratch", &[], TestEval::Best, None, None);
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("checkpoint.safetensors");
    // Stopped after the best epoch (2): its weights come back from the checkpoint.
    assert_eq!(whole.best_epoch, 2);
    let first = train("scratch", &[], TestEval::Best, Some(ck.clone()), Some(3));
    assert!(first.epochs.iter().all(|e| e.test_acc.is_none()));
    let resumed = train("scratch", &[], TestEval::Best, Some(ck), None);
    assert_eq!(
        (resumed.best_epoch, resumed.test_acc, resumed.final_test_acc),
        (whole.best_epoch, whole.test_acc, whole.final_test_acc)
    );
}

#[test]
fn l2t_runs_record_where_lambda_and_w_started() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(11);
    let src = Model::new(Arch::CifarResNet(20), 4, Device::Cpu, Kind::Float).unwrap();
    let s = train("l2t-ww: {T: 1}", &[src], TestEval::Best, None, None);
    let init = &s.initial_stats;
    // w starts uniform: its entropy is ln C of the pair's source channels (16, 32 or 64).
    let entropies: Vec<f64> = init
        .iter()
        .filter(|(k, _)| k.starts_with("entropy."))
        .map(|(_, v)| *v)
        .collect();
    assert_eq!(entropies.len(), 15, "{init:?}");
    for h in &entropies {
        assert!(
            [16f64, 32.0, 64.0]
                .iter()
                .any(|c| (h - c.ln()).abs() < 1e-4),
            "{h}"
        );
    }
    assert_eq!(init.keys().filter(|k| k.starts_with("lambda.")).count(), 15);
    let moved = s.final_movement().unwrap();
    assert!(moved.lambda_shift > 0.0 && moved.w_entropy <= moved.w_entropy_init + 1e-9);
    let plain = train(
        "fm",
        &[Model::new(Arch::CifarResNet(20), 4, Device::Cpu, Kind::Float).unwrap()],
        TestEval::Best,
        None,
        None,
    );
    assert!(plain.initial_stats.is_empty() && plain.final_movement().is_none());
}
