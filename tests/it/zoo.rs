//! The model zoo: parameter names as the official and torchvision checkpoints have them, and
//! taps whose declared channels and spatial sizes match what a forward pass produces.

use l2tww::models::{zoo::ARCH_NAMES, Arch, Model};
use tch::{Device, Kind, Tensor};

fn names(arch: &str, classes: i64) -> Vec<String> {
    let model = Model::new(arch.parse().unwrap(), classes, Device::Cpu, Kind::Float).unwrap();
    let mut n: Vec<String> = model.vs.variables().into_keys().collect();
    n.sort();
    n
}

#[test]
fn every_architecture_produces_the_taps_it_declares() {
    for name in ARCH_NAMES {
        let arch: Arch = name.parse().unwrap();
        let input = if arch.native_input() == 224 { 64 } else { 32 };
        let model = Model::new(arch, 7, Device::Cpu, Kind::Float).unwrap();
        let x = Tensor::randn([2, 3, input, input], (Kind::Float, Device::Cpu));
        let out = tch::no_grad(|| model.net.forward_t(&x, false));
        assert_eq!(out.logits.size(), vec![2, 7], "{name}");
        let taps = model.net.taps();
        assert_eq!(out.features.len(), taps.len(), "{name}");
        for (f, t) in out.features.iter().zip(taps) {
            let s = t.spatial(input);
            assert_eq!(f.size(), vec![2, t.channels, s, s], "{name} tap {}", t.name);
        }
    }
}

#[test]
fn cifar_resnets_have_three_stages_of_blocks_each_a_tap() {
    for (depth, per_stage) in [(20, 3), (32, 5), (44, 7), (56, 9), (110, 18)] {
        let model = Model::new(Arch::CifarResNet(depth), 10, Device::Cpu, Kind::Float).unwrap();
        let taps = model.net.taps();
        assert_eq!(taps.len(), 3 * per_stage, "resnet{depth}");
        assert_eq!(taps[0].name, "block1");
        assert_eq!(taps[per_stage].name, "block3");
        assert_eq!(
            taps[3 * per_stage - 1].name,
            format!("blocks6.{}", per_stage - 2)
        );
        let channels: Vec<i64> = taps.iter().map(|t| t.channels).collect();
        assert_eq!(
            channels,
            [
                vec![16; per_stage],
                vec![32; per_stage],
                vec![64; per_stage]
            ]
            .concat()
        );
    }
}

#[test]
fn vgg9_bn_uses_sequential_numbering_and_taps_before_each_pool() {
    let n = names("vgg9-bn", 10);
    for k in [
        "features.0.weight",
        "features.0.bias",
        "features.1.running_var",
        "features.25.weight",
        "features.26.running_mean",
        "classifier.weight",
    ] {
        assert!(n.contains(&k.to_string()), "missing {k}");
    }
    let model = Model::new(Arch::Vgg9Bn, 10, Device::Cpu, Kind::Float).unwrap();
    let taps: Vec<(String, i64, i64)> = model
        .net
        .taps()
        .iter()
        .map(|t| (t.name.clone(), t.channels, t.spatial(32)))
        .collect();
    assert_eq!(
        taps,
        vec![
            ("features.2".into(), 64, 32),
            ("features.6".into(), 128, 16),
            ("features.13".into(), 256, 8),
            ("features.20".into(), 512, 4),
            ("features.27".into(), 512, 2)
        ]
    );
}

#[test]
fn imagenet_resnets_have_torchvision_names() {
    // torchvision's state dicts without num_batches_tracked: 102 tensors for ResNet18, 182 for ResNet34.
    let r18 = names("resnet18", 1000);
    assert_eq!(r18.len(), 102);
    assert_eq!(names("resnet34", 1000).len(), 182);
    for k in [
        "conv1.weight",
        "bn1.running_mean",
        "layer1.0.conv1.weight",
        "layer2.0.downsample.0.weight",
        "layer2.0.downsample.1.running_var",
        "layer4.1.bn2.bias",
        "fc.weight",
        "fc.bias",
    ] {
        assert!(r18.contains(&k.to_string()), "missing {k}");
    }
    assert!(!r18.iter().any(|k| k.starts_with("layer1.0.downsample")));
    let model = Model::new(Arch::ImageNetResNet(34), 1000, Device::Cpu, Kind::Float).unwrap();
    let sizes: Vec<(i64, i64)> = model
        .net
        .taps()
        .iter()
        .map(|t| (t.channels, t.spatial(224)))
        .collect();
    assert_eq!(sizes, vec![(64, 56), (128, 28), (256, 14), (512, 7)]);
}

#[test]
fn architecture_names_parse_and_unknown_ones_list_the_zoo() {
    assert_eq!("resnet32".parse::<Arch>().unwrap(), Arch::CifarResNet(32));
    assert_eq!(
        "resnet34".parse::<Arch>().unwrap(),
        Arch::ImageNetResNet(34)
    );
    assert_eq!("vgg9-bn".parse::<Arch>().unwrap(), Arch::Vgg9Bn);
    let err = "resnet33".parse::<Arch>().unwrap_err().to_string();
    assert!(err.contains("resnet33") && err.contains("vgg9-bn"), "{err}");
}

#[test]
fn float64_on_request_makes_every_variable_double() {
    let model = Model::new(Arch::CifarResNet(20), 10, Device::Cpu, Kind::Double).unwrap();
    assert!(model
        .vs
        .variables()
        .values()
        .all(|t| t.kind() == Kind::Double));
}
