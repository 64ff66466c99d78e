//! L2T's meta step as the engine takes it (`MethodSpec::build_l2t`, `train_step`): the meta
//! step it records is the one its optimizer took, the frozen control takes none, and only
//! l2t-w and l2t-ww build as L2T. (The conformance cases and the fidelity bench read the
//! recorded step; this checks that it is what training does.)

use crate::util::{quadrants, SERIAL};
use l2tww::models::{Arch, Model};
use l2tww::transfer::engine::step::{optimizer_for, train_step};
use l2tww::transfer::engine::{AfterStep, Batch, OptimConfig, Schedule};
use l2tww::transfer::methods::l2t::L2t;
use l2tww::transfer::methods::l2tww::MetaGradient;
use l2tww::transfer::methods::{BuildContext, MethodSpec};
use tch::{Device, Kind, Tensor};

fn spec(yaml: &str) -> MethodSpec {
    serde_yaml_ng::from_str(yaml).unwrap()
}

fn snapshot(l2t: &L2t) -> Vec<Tensor> {
    l2t.meta_params()
        .iter()
        .map(|(_, t)| t.detach().copy())
        .collect()
}

/// Builds `yaml` for a VGG9-bn target and an untrained ResNet20 source and takes one training
/// step; returns L2T and its meta-parameters before the step.
fn one_step(yaml: &str) -> (L2t, Vec<Tensor>) {
    tch::manual_seed(3);
    let sources = [Model::new(Arch::CifarResNet(20), 4, Device::Cpu, Kind::Float).unwrap()];
    let target = Model::new(Arch::Vgg9Bn, 4, Device::Cpu, Kind::Float).unwrap();
    let ctx = BuildContext {
        target: &target,
        sources: &sources,
        input: 32,
        device: Device::Cpu,
        kind: Kind::Float,
        momentum: 0.9,
    };
    let mut l2t = spec(yaml).build_l2t(&ctx).unwrap();
    assert!(l2t.last_meta_step().is_none());
    let optim = OptimConfig {
        lr: 0.05,
        schedule: Schedule::Constant,
        ..Default::default()
    };
    let mut sgd = optimizer_for(&target, &l2t, &optim);
    let before = snapshot(&l2t);
    let (x, y) = quadrants(8, 4);
    let batch = Batch {
        x,
        y,
        idx: (0..8).collect(),
    };
    let out = train_step(&target, &sources, &mut l2t, &mut sgd, &batch, 0, 0).unwrap();
    let terms: Vec<&str> = out.terms.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(terms, ["ce", "wfm"]);
    (l2t, before)
}

#[test]
fn the_recorded_meta_gradient_is_the_one_adam_stepped_with() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (l2t, before) = one_step("l2t-ww: {T: 1, pairs: !explicit '8-2,5-1'}");
    let step = l2t.last_meta_step().expect("a meta step");
    let params = l2t.meta_params();
    let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    let recorded: Vec<&str> = step.grad.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, recorded);
    assert!(names.contains(&"s0.wnet.1.weight") && names.contains(&"s0.lwnet.0.bias"));
    assert!(step.outer_ce.is_finite() && step.outer_ce > 0.0);
    // Adam's first step (lr 1e-4, L2 weight decay 1e-4): p − lr·g′/(|g′| + ε), g′ = g + wd·p.
    let mut moved = 0;
    for (((n, p), b), (_, g)) in params.iter().zip(&before).zip(&step.grad) {
        let g = g + b * 1e-4;
        let expected = b - &g / (g.abs() + 1e-8) * 1e-4;
        let err = f64::try_from((p - &expected).abs().max()).unwrap();
        assert!(err < 1e-6, "{n}: off by {err:e} from Adam's step");
        moved += i64::try_from(p.ne_tensor(b).sum(Kind::Int64)).unwrap();
    }
    assert!(moved > 0, "no meta-parameter moved");
}

#[test]
fn the_frozen_control_takes_no_meta_step_and_has_no_meta_gradient() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (l2t, before) = one_step("l2t-ww: {T: 1, frozen: true, pairs: !explicit 8-2}");
    assert!(l2t.last_meta_step().is_none());
    for (p, b) in l2t.meta_params().iter().zip(&before) {
        assert!(p.1.equal(b), "{} moved", p.0);
    }
    // Asked directly for a meta-gradient, it says why there is none.
    let target = Model::new(Arch::Vgg9Bn, 4, Device::Cpu, Kind::Float).unwrap();
    let mut sgd = optimizer_for(&target, &l2t, &OptimConfig::default());
    let (x, y) = quadrants(2, 1);
    let err = l2t
        .meta_gradient(
            &AfterStep {
                sgd: &mut sgd,
                target: target.net.as_ref(),
                buffers: &[],
                sources: &[],
                x: &x,
                y: &y,
            },
            MetaGradient::Exact,
        )
        .expect_err("an error")
        .to_string();
    assert!(err.contains("frozen"), "{err}");
}

#[test]
fn only_l2t_w_and_l2t_ww_build_as_l2t() {
    let sources = [Model::new(Arch::CifarResNet(20), 4, Device::Cpu, Kind::Float).unwrap()];
    let target = Model::new(Arch::Vgg9Bn, 4, Device::Cpu, Kind::Float).unwrap();
    let ctx = BuildContext {
        target: &target,
        sources: &sources,
        input: 32,
        device: Device::Cpu,
        kind: Kind::Float,
        momentum: 0.9,
    };
    let err = spec("fm")
        .build_l2t(&ctx)
        .err()
        .expect("an error")
        .to_string();
    assert!(err.contains("`fm`") && err.contains("l2t-ww"), "{err}");
    assert!(spec("l2t-w: {T: 1}").build_l2t(&ctx).is_ok());
}
