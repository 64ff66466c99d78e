//! The training engine on tiny real training runs: every method trains through the one loop,
//! multi-source L2T-ww records statistics for both sources, and a diverging loss stops the run
//! with a clear error. (Resuming is tested end to end in `train`, one process per run, since
//! libtorch's generator is global to a process and tests run in parallel.)

use crate::util::{quadrants, SERIAL};
use l2tww::models::{Arch, Model};
use l2tww::transfer::engine::{OptimConfig, Quiet, RunData, Schedule, TensorBatches, Trainer};
use l2tww::transfer::methods::{BuildContext, MethodSpec};
use l2tww::transfer::record::RunSummary;
use std::path::PathBuf;
use tch::{Device, Kind};

fn run(
    spec: &MethodSpec,
    sources: &[Model],
    epochs: usize,
    checkpoint: Option<PathBuf>,
    stop_after: Option<usize>,
) -> (RunSummary, Model) {
    tch::manual_seed(1);
    let target = Model::new(Arch::Vgg9Bn, 4, Device::Cpu, Kind::Float).unwrap();
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
    let train = TensorBatches::new(x, y, 8).shuffled(9).drop_last(true);
    let val = TensorBatches::new(vx.shallow_clone(), vy.shallow_clone(), 8);
    let test = TensorBatches::new(vx, vy, 8);
    let optim = OptimConfig {
        epochs,
        lr: 0.05,
        schedule: Schedule::Constant,
        ..Default::default()
    };
    let mut trainer = Trainer {
        target: &target,
        sources,
        method: method.as_mut(),
        optim,
        eval: Default::default(),
        seed: 1,
        checkpoint,
        fingerprint: format!("{spec:?}"),
        stop_after,
    };
    let summary = trainer
        .fit(
            RunData {
                train: &train,
                val: &val,
                test: &test,
                train_eval: None,
            },
            &mut Quiet,
        )
        .unwrap();
    (summary, target)
}

fn source(arch: Arch) -> Model {
    tch::manual_seed(2);
    let s = Model::new(arch, 4, Device::Cpu, Kind::Float).unwrap();
    // A little training so that its features mean something.
    let (x, y) = quadrants(16, 3);
    let data = TensorBatches::new(x, y, 8);
    let mut method = l2tww::transfer::methods::plain::Scratch;
    let mut t = Trainer {
        target: &s,
        sources: &[],
        method: &mut method,
        optim: OptimConfig {
            epochs: 1,
            lr: 0.05,
            schedule: Schedule::Constant,
            ..Default::default()
        },
        eval: Default::default(),
        seed: 0,
        checkpoint: None,
        fingerprint: String::new(),
        stop_after: None,
    };
    t.fit(
        RunData {
            train: &data,
            val: &data,
            test: &data,
            train_eval: None,
        },
        &mut Quiet,
    )
    .unwrap();
    s
}

fn parse(yaml: &str) -> MethodSpec {
    serde_yaml_ng::from_str(yaml).unwrap()
}

#[test]
fn scratch_learns_an_easy_task() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (summary, _) = run(&MethodSpec::Scratch, &[], 4, None, None);
    let first = &summary.epochs[0];
    let last = summary.epochs.last().unwrap();
    // Training fits the task; validation on 16 images with batch-norm statistics from 3
    // batches swings too much to assert on.
    assert!(
        last.train_loss < 0.5 * first.train_loss,
        "{:?}",
        summary.epochs
    );
    assert!(last.train_acc > 50.0, "{:?}", summary.epochs);
    assert!(summary
        .epochs
        .iter()
        .all(|e| (0.0..=100.0).contains(&e.val_acc)));
}

#[test]
fn every_method_trains_through_the_one_loop() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let src = [source(Arch::CifarResNet(20))];
    for yaml in [
        "lwf: {}",
        "at: {}",
        "fm: {pairs: all-to-all}",
        "l2t-w: {}",
        "l2t-ww: {T: 1}",
    ] {
        let spec = parse(yaml);
        let (summary, _) = run(&spec, &src, 1, None, None);
        let e = &summary.epochs[0];
        assert!(e.train_loss.is_finite(), "{yaml}: {e:?}");
        let term = match spec.name() {
            "l2t-w" | "l2t-ww" => "wfm",
            other => other,
        };
        assert!(
            e.terms.get(term).is_some_and(|v| v.is_finite() && *v > 0.0),
            "{yaml}: {:?}",
            e.terms
        );
        assert!((0.0..=100.0).contains(&summary.test_acc));
    }
}

#[test]
fn finetune_starts_from_the_source_weights_except_a_head_of_another_size() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let src = [source(Arch::Vgg9Bn)];
    let target = Model::new(Arch::Vgg9Bn, 7, Device::Cpu, Kind::Float).unwrap();
    let ctx = BuildContext {
        target: &target,
        sources: &src,
        input: 32,
        device: Device::Cpu,
        kind: Kind::Float,
        momentum: 0.9,
    };
    let mut method = MethodSpec::Finetune.build(&ctx).unwrap();
    let (x, y) = quadrants(8, 1);
    let data = TensorBatches::new(x, y, 8);
    method.prepare(&target, &src, &data).unwrap();
    let from = src[0].vs.variables();
    for (name, t) in target.vs.variables() {
        if name.starts_with("classifier") {
            assert_ne!(t.size(), from[&name].size());
        } else {
            assert!(t.equal(&from[&name]), "{name} was not copied");
        }
    }
    let resnet = [source(Arch::CifarResNet(20))];
    let ctx = BuildContext {
        sources: &resnet,
        ..ctx
    };
    let err = MethodSpec::Finetune
        .build(&ctx)
        .unwrap()
        .prepare(&target, &resnet, &data)
        .unwrap_err()
        .to_string();
    assert!(err.contains("same architecture"), "{err}");
}

#[test]
fn multi_source_l2t_ww_records_lambda_and_entropy_for_both_sources() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let sources = [source(Arch::CifarResNet(20)), source(Arch::CifarResNet(32))];
    let (summary, _) = run(
        &parse("l2t-ww: {T: 1, pairs: one-to-one}"),
        &sources,
        1,
        None,
        None,
    );
    let stats = &summary.epochs[0].stats;
    assert!(
        stats.contains_key("lambda.s0.2-0") && stats.contains_key("lambda.s1.14-2"),
        "{stats:?}"
    );
    let ent = stats["entropy.s1.14-2"];
    assert!(
        // The entropy is computed in float32: at w uniform it is ln 64 to float32's precision
        // (a relative 6e-8 a rounding), not to float64's.
        ent > 0.0 && ent <= (64f64).ln() * (1.0 + 1e-6),
        "entropy of w over 64 channels: {ent}"
    );
}

#[test]
fn a_diverging_loss_stops_the_run_naming_epoch_iteration_and_term() {
    let src = [source(Arch::CifarResNet(20))];
    let target = Model::new(Arch::Vgg9Bn, 4, Device::Cpu, Kind::Float).unwrap();
    let ctx = BuildContext {
        target: &target,
        sources: &src,
        input: 32,
        device: Device::Cpu,
        kind: Kind::Float,
        momentum: 0.9,
    };
    let mut method = parse("fm: {beta: 1.0e30}").build(&ctx).unwrap();
    let (x, y) = quadrants(16, 5);
    let data = TensorBatches::new(x * 1e20, y, 8);
    let mut t = Trainer {
        target: &target,
        sources: &src,
        method: method.as_mut(),
        optim: OptimConfig {
            epochs: 1,
            ..Default::default()
        },
        eval: Default::default(),
        seed: 0,
        checkpoint: None,
        fingerprint: String::new(),
        stop_after: None,
    };
    let err = t
        .fit(
            RunData {
                train: &data,
                val: &data,
                test: &data,
                train_eval: None,
            },
            &mut Quiet,
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("epoch 1,") && err.contains("iteration 1;") && err.contains("not finite"),
        "{err}"
    );
}

#[test]
fn unknown_method_options_are_rejected() {
    let err = serde_yaml_ng::from_str::<MethodSpec>("l2t-ww: {betaa: 1}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("betaa"), "{err}");
}

#[test]
fn an_l2t_ww_step_moves_batch_norm_statistics_twice_as_the_official_loop() {
    // The official loop's live step moves the running statistics once (forward at θ0); its
    // `meta_backward` restores the first look-ahead state (θ1, after the live step) and runs
    // that objective again in train mode, which moves them once more; with roll-back nothing
    // restores them. So after one step they are those of a forward at θ0 followed by one at θ1.
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let src = [source(Arch::CifarResNet(20))];
    let a = Model::new(Arch::Vgg9Bn, 4, Device::Cpu, Kind::Float).unwrap();
    let mut b = Model::new(Arch::Vgg9Bn, 4, Device::Cpu, Kind::Float).unwrap();
    b.vs.copy(&a.vs).unwrap();
    let ctx = BuildContext {
        target: &a,
        sources: &src,
        input: 32,
        device: Device::Cpu,
        kind: Kind::Float,
        momentum: 0.9,
    };
    let mut method = parse("l2t-ww: {T: 2}").build(&ctx).unwrap();
    let mut sgd =
        l2tww::transfer::engine::step::optimizer_for(&a, method.as_ref(), &OptimConfig::default());
    let (x, y) = quadrants(8, 4);
    let batch = l2tww::transfer::engine::Batch {
        x: x.shallow_clone(),
        y,
        idx: (0..8).collect(),
    };
    l2tww::transfer::engine::step::train_step(&a, &src, method.as_mut(), &mut sgd, &batch, 0, 0)
        .unwrap();
    let (va, vb) = (a.vs.variables(), b.vs.variables());
    let names = ["features.1.running_mean", "features.26.running_var"];
    // At θ0 only: one forward is not enough.
    tch::no_grad(|| b.net.forward_t(&x, true));
    for name in names {
        assert!(
            !va[name].allclose(&vb[name], 1e-6, 1e-7, false),
            "{name} moved only once"
        );
    }
    // Then at θ1 (a's parameters after the step: the look-ahead is rolled back).
    tch::no_grad(|| {
        for (n, t) in &va {
            if t.requires_grad() {
                vb[n].shallow_clone().copy_(t);
            }
        }
        b.net.forward_t(&x, true)
    });
    for name in names {
        assert!(
            va[name].allclose(&vb[name], 1e-6, 1e-7, false),
            "{name} is not that of forwards at θ0 and θ1"
        );
    }
}
