//! An L2T-ww case in float64, as the reference files describe it, on the path training takes:
//! the official ResNet32 checkpoint (eval mode) as the source, the VGG9-bn reference weights as
//! the target, L2T-ww built as a training run builds it (`MethodSpec::build_l2t` with a
//! `BuildContext`: the 1×1 convs, meta-networks, look-ahead replicas and meta optimizer), the
//! SGD over the target and the 1×1 convs from the engine's `optimizer_for`, and every iteration
//! the engine's `train_step` (the live SGD step on CE + WFM, then `L2t::after_step`'s meta step).
//! Built from `l2tww_two_iterations.safetensors` (its pairs, T, hyper-parameters, and its initial
//! weights loaded into L2T's variables by name) or generated from the same networks with other
//! pairs, T, batch size and seed (fresh 1×1 convs and meta-networks, random batches), for
//! measuring the cheaper meta-gradient modes against the exact one.

use super::features::RESNET_CHECKPOINT;
use super::meta_value;
use crate::error::{Error, Result};
use crate::models::weights::{load_into, load_named, WeightFile};
use crate::models::{Arch, Model};
use crate::transfer::engine::step::{optimizer_for, train_step, StepOutcome};
use crate::transfer::engine::{Batch, Method, OptimConfig, Schedule};
use crate::transfer::meta::Sgd;
use crate::transfer::methods::l2t::{L2t, MetaOptimizerKind};
use crate::transfer::methods::l2tww::MetaGradient;
use crate::transfer::methods::meta_networks::LambdaActivation;
use crate::transfer::methods::schemes::PairScheme;
use crate::transfer::methods::spec::L2tOptions;
use crate::transfer::methods::{BuildContext, MethodSpec};
use std::collections::HashMap;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// The file holding the target's initial weights.
pub const TARGET_WEIGHTS: &str = "vgg9bn_features.safetensors";

/// What L2T puts before the names of its (only) source's parts (`s0.branch.0.weight`,
/// `s0.wnet.0.bias`); the reference names them without it.
pub const SOURCE_PREFIX: &str = "s0.";

/// A generated case: the reference networks with these pairs, T, batch size and seed, the
/// official SGD (lr 0.1, momentum 0.9, wd 1e-4) and `l2t-ww`'s defaults, which are the official
/// ones (β 0.5, Adam with lr and wd 1e-4, relu6 λ with bias 1).
#[derive(Debug, Clone)]
pub struct Generated {
    /// Pairs in the official notation (`4-0,9-1,14-2`).
    pub pairs: String,
    /// Look-ahead steps.
    pub lookahead: usize,
    /// Batch size.
    pub batch: i64,
    /// Seed of the 1×1 convs, the λ networks and the batches.
    pub seed: i64,
}

/// Everything one case owns: the networks, L2T-ww and the target's optimizer.
pub struct L2twwCase {
    /// The source network (one).
    pub sources: Vec<Model>,
    /// The target network.
    pub target: Model,
    /// L2T-ww, as training builds it.
    pub method: L2t,
    /// SGD on the target and the 1×1 convs, as training builds it.
    pub sgd: Sgd,
}

fn need(dir: &Path, file: &Path, name: &str) -> Result<std::path::PathBuf> {
    let p = dir.join(name);
    if p.exists() {
        Ok(p)
    } else {
        Err(Error::bad_file(
            file,
            format!("this case needs {}", p.display()),
        ))
    }
}

/// The reference networks: the source checkpoint and the target's initial weights.
fn networks(dir: &Path, case_file: &Path, dev: Device) -> Result<(Model, Model)> {
    let kind = Kind::Double;
    let source = Model::from_checkpoint(&need(dir, case_file, RESNET_CHECKPOINT)?, dev, kind)?;
    let target_file = WeightFile::read(&need(dir, case_file, TARGET_WEIGHTS)?)?;
    let target_weights: Vec<(String, Tensor)> = target_file
        .tensors
        .iter()
        .filter(|(k, _)| k != "input" && !k.starts_with("eval.") && !k.starts_with("train."))
        .map(|(k, t)| (k.clone(), t.shallow_clone()))
        .collect();
    let (arch, classes) = Arch::infer(&target_weights)
        .map_err(|e| Error::bad_file(&target_file.path, e.to_string()))?;
    let target = Model::new(arch, classes, dev, kind)?;
    load_named(
        &target.vs,
        &target_weights,
        &target_file.path,
        &arch.to_string(),
    )?;
    Ok((source, target))
}

/// The SGD settings of a case (a constant rate: the cases are a few batches of one epoch).
fn sgd_config(lr: f64, momentum: f64, weight_decay: f64) -> OptimConfig {
    OptimConfig {
        epochs: 1,
        lr,
        momentum,
        weight_decay,
        nesterov: false,
        schedule: Schedule::Constant,
    }
}

/// `name` without [`SOURCE_PREFIX`], as the reference names it.
pub fn official_name(name: &str) -> &str {
    name.strip_prefix(SOURCE_PREFIX).unwrap_or(name)
}

impl L2twwCase {
    /// The case of a `l2tww_two_iterations` file in `dir`.
    pub fn from_reference(dir: &Path, file: &WeightFile, dev: Device) -> Result<Self> {
        let (source, target) = networks(dir, &file.path, dev)?;
        let lambda: LambdaActivation = file.meta("loss_weight_type")?.parse()?;
        let spec = MethodSpec::L2tWw(L2tOptions {
            beta: meta_value(file, "beta")?,
            pairs: Some(PairScheme::Explicit(file.meta("pairs")?.to_string())),
            lookahead: meta_value(file, "T")? as usize,
            meta_lr: meta_value(file, "meta_lr")?,
            meta_wd: meta_value(file, "meta_wd")?,
            meta_optimizer: MetaOptimizerKind::Adam,
            meta_gradient: MetaGradient::Exact,
            meta_every: 1,
            frozen: false,
            lambda: Some(lambda),
            lambda_init: meta_value(file, "loss_weight_init")?,
            standardize: Vec::new(),
        });
        let optim = sgd_config(
            meta_value(file, "lr")?,
            meta_value(file, "momentum")?,
            meta_value(file, "wd")?,
        );
        // The input size the pairs are resolved at: the batches'.
        let input = file.get("iter0.x").map_or(32, |x| x.size()[3]);
        let case = Self::build(source, target, &spec, &optim, input)?;
        case.load_initial(file)?;
        Ok(case)
    }

    /// A generated case on the reference networks in `dir` (`case_file` names the case in
    /// errors).
    pub fn generated(dir: &Path, case_file: &Path, g: &Generated) -> Result<Self> {
        let (source, target) = networks(dir, case_file, Device::Cpu)?;
        tch::manual_seed(g.seed);
        let spec = MethodSpec::L2tWw(L2tOptions {
            pairs: Some(PairScheme::Explicit(g.pairs.clone())),
            lookahead: g.lookahead,
            lambda: Some(LambdaActivation::Relu6),
            ..Default::default()
        });
        Self::build(source, target, &spec, &sgd_config(0.1, 0.9, 1e-4), 32)
    }

    fn build(
        source: Model,
        target: Model,
        spec: &MethodSpec,
        optim: &OptimConfig,
        input: i64,
    ) -> Result<Self> {
        let sources = vec![source];
        let method = spec.build_l2t(&BuildContext {
            target: &target,
            sources: &sources,
            input,
            device: target.vs.device(),
            kind: Kind::Double,
            momentum: optim.momentum,
        })?;
        let sgd = optimizer_for(&target, &method, optim);
        Ok(L2twwCase {
            sources,
            target,
            method,
            sgd,
        })
    }

    /// Loads the file's `init.*` tensors (the 1×1 convs and the meta-networks) into L2T's
    /// variables by name; every variable must be given, with its shape, and nothing else.
    fn load_initial(&self, file: &WeightFile) -> Result<()> {
        let ours: HashMap<String, Tensor> = self
            .method
            .trained_params()
            .into_iter()
            .chain(self.method.meta_params())
            .collect();
        let init: Vec<(String, Tensor)> = file
            .with_prefix("init.")
            .into_iter()
            .map(|(n, t)| (format!("{SOURCE_PREFIX}{n}"), t))
            .collect();
        load_into(&ours, &init, &file.path, "l2t-ww")
    }

    /// A batch of the engine from inputs and labels.
    pub fn batch(x: &Tensor, y: &Tensor) -> Batch {
        Batch {
            x: x.shallow_clone(),
            y: y.shallow_clone(),
            idx: (0..x.size()[0]).collect(),
        }
    }

    /// Iteration `k` on batch (`x`, `y`): the engine's training step, L2T's meta step included.
    pub fn step(&mut self, x: &Tensor, y: &Tensor, k: usize) -> Result<StepOutcome> {
        train_step(
            &self.target,
            &self.sources,
            &mut self.method,
            &mut self.sgd,
            &Self::batch(x, y),
            0,
            k,
        )
    }

    /// A random batch of `n` 32×32 images and labels of the target's classes.
    pub fn random_batch(&self, n: i64) -> (Tensor, Tensor) {
        let x = Tensor::randn([n, 3, 32, 32], (Kind::Double, Device::Cpu));
        let y = Tensor::randint(
            self.target.net.num_classes(),
            [n],
            (Kind::Int64, Device::Cpu),
        );
        (x, y)
    }
}
