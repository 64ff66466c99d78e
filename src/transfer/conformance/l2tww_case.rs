//! An L2T-ww case in float64 on the CPU, as the reference files describe it: the official
//! ResNet32 checkpoint (eval mode) as the source, the VGG9-bn reference weights as the target,
//! the 1×1 convs and meta-networks, SGD on the target and Adam on the meta-networks, T + 1
//! look-ahead replicas. Built from `l2tww_two_iterations.safetensors` (its pairs, T,
//! hyper-parameters and initial weights) or generated from the same networks with other pairs,
//! T, batch size and seed (fresh 1×1 convs and meta-networks, random batches), for measuring the
//! cheaper meta-gradient modes against the exact one.

use super::features::RESNET_CHECKPOINT;
use super::meta_value;
use crate::error::{Error, Result};
use crate::models::weights::{load_named, WeightFile};
use crate::models::{Arch, Model};
use crate::transfer::meta::{Adam, AdamConfig, Sgd, SgdConfig};
use crate::transfer::methods::feature_matching::FeatureMatching;
use crate::transfer::methods::l2tww::{L2tww, L2twwConfig, Lookahead, MetaGradient, SourceTerm};
use crate::transfer::methods::meta_networks::{LambdaActivation, MetaNetworks};
use crate::transfer::methods::pairs::{check_pairs, parse_pairs};
use crate::transfer::methods::replica::Replica;
use std::path::Path;
use tch::{nn::VarStore, Device, Kind, Tensor};

/// The file holding the target's initial weights.
pub const TARGET_WEIGHTS: &str = "vgg9bn_features.safetensors";

/// A generated case: the reference networks with these pairs, T, batch size and seed, and the
/// official hyper-parameters (lr 0.1, momentum 0.9, wd 1e-4, β 0.5, relu6 λ with bias 1).
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

/// Everything one case owns.
pub struct L2twwCase {
    /// The source network.
    pub source: Model,
    /// The target network.
    pub target: Model,
    /// The 1×1 convs' variables.
    pub branch_vs: VarStore,
    /// The meta-networks' variables.
    pub meta_vs: VarStore,
    /// The 1×1 convs.
    pub matching: FeatureMatching,
    /// The meta-networks.
    pub meta: MetaNetworks,
    /// The meta-networks' parameters by name, sorted (the meta-gradient's order).
    pub phi: Vec<(String, Tensor)>,
    /// The same tensors, for the iteration.
    pub phi_params: Vec<Tensor>,
    /// The target's batch-norm running statistics.
    pub buffers: Vec<Tensor>,
    /// The look-ahead replicas.
    pub replicas: Vec<Replica>,
    /// β and T (exact meta-gradient).
    pub cfg: L2twwConfig,
}

/// The optimizers of a case (apart from it, so that they can step while the case is viewed).
pub struct Optimizers {
    /// SGD on the target and the 1×1 convs.
    pub sgd: Sgd,
    /// Adam on the meta-networks.
    pub adam: Adam,
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

/// The trainable variables of `vs`, sorted by name.
pub fn sorted_trainables(vs: &VarStore) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(_, t)| t.requires_grad())
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
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

/// The settings a case is built with besides the networks.
struct Settings {
    pairs: String,
    activation: LambdaActivation,
    lambda_init: f64,
    sgd: SgdConfig,
    adam: AdamConfig,
    cfg: L2twwConfig,
}

impl L2twwCase {
    /// The case of a `l2tww_two_iterations` file in `dir`.
    pub fn from_reference(
        dir: &Path,
        file: &WeightFile,
        dev: Device,
    ) -> Result<(Self, Optimizers)> {
        let (source, target) = networks(dir, &file.path, dev)?;
        let settings = Settings {
            pairs: file.meta("pairs")?.to_string(),
            activation: file.meta("loss_weight_type")?.parse()?,
            lambda_init: meta_value(file, "loss_weight_init")?,
            sgd: SgdConfig {
                lr: meta_value(file, "lr")?,
                momentum: meta_value(file, "momentum")?,
                weight_decay: meta_value(file, "wd")?,
                nesterov: false,
            },
            adam: AdamConfig::new(meta_value(file, "meta_lr")?, meta_value(file, "meta_wd")?),
            cfg: L2twwConfig {
                beta: meta_value(file, "beta")?,
                lookahead: meta_value(file, "T")? as usize,
                meta_gradient: MetaGradient::Exact,
            },
        };
        let (case, opt) = Self::build(source, target, settings, &file.path)?;
        let init = file.with_prefix("init.");
        let (branch_init, meta_init): (Vec<_>, Vec<_>) = init
            .into_iter()
            .partition(|(k, _)| k.starts_with("branch."));
        load_named(&case.branch_vs, &branch_init, &file.path, "branch")?;
        load_named(&case.meta_vs, &meta_init, &file.path, "meta-networks")?;
        Ok((case, opt))
    }

    /// A generated case on the reference networks in `dir` (`case_file` names the case in
    /// errors).
    pub fn generated(dir: &Path, case_file: &Path, g: &Generated) -> Result<(Self, Optimizers)> {
        let (source, target) = networks(dir, case_file, Device::Cpu)?;
        tch::manual_seed(g.seed);
        let settings = Settings {
            pairs: g.pairs.clone(),
            activation: LambdaActivation::Relu6,
            lambda_init: 1.0,
            sgd: SgdConfig {
                lr: 0.1,
                momentum: 0.9,
                weight_decay: 1e-4,
                nesterov: false,
            },
            adam: AdamConfig::new(1e-4, 1e-4),
            cfg: L2twwConfig {
                beta: 0.5,
                lookahead: g.lookahead,
                meta_gradient: MetaGradient::Exact,
            },
        };
        Self::build(source, target, settings, case_file)
    }

    fn build(source: Model, target: Model, s: Settings, file: &Path) -> Result<(Self, Optimizers)> {
        let (dev, kind) = (target.vs.device(), Kind::Double);
        let pairs = parse_pairs(&s.pairs).map_err(|e| Error::bad_file(file, e.to_string()))?;
        check_pairs(&pairs, source.net.taps(), target.net.taps())?;
        let mut branch_vs = VarStore::new(dev);
        let matching = FeatureMatching::new(
            &(branch_vs.root() / "branch"),
            source.net.taps(),
            target.net.taps(),
            &pairs,
        );
        branch_vs.set_kind(kind);
        let mut meta_vs = VarStore::new(dev);
        let meta = MetaNetworks::new(
            &meta_vs.root(),
            source.net.taps(),
            &pairs,
            Some(s.activation),
            s.lambda_init,
        );
        meta_vs.set_kind(kind);
        let theta: Vec<Tensor> = sorted_trainables(&target.vs)
            .into_iter()
            .chain(sorted_trainables(&branch_vs))
            .map(|(_, t)| t)
            .collect();
        let phi = sorted_trainables(&meta_vs);
        let phi_params: Vec<Tensor> = phi.iter().map(|(_, t)| t.shallow_clone()).collect();
        let adam = Adam::new(
            phi_params.iter().map(Tensor::shallow_clone).collect(),
            s.adam,
        );
        let buffers: Vec<Tensor> = target
            .vs
            .variables()
            .into_values()
            .filter(|t| !t.requires_grad())
            .collect();
        let replicas = (0..=s.cfg.lookahead)
            .map(|_| Replica::of_model(&target, &[&matching], &[&branch_vs]))
            .collect::<Result<Vec<_>>>()?;
        let case = L2twwCase {
            source,
            target,
            branch_vs,
            meta_vs,
            matching,
            meta,
            phi,
            phi_params,
            buffers,
            replicas,
            cfg: s.cfg,
        };
        let opt = Optimizers {
            sgd: Sgd::new(theta, s.sgd),
            adam,
        };
        Ok((case, opt))
    }

    /// The iteration over this case's parts (the look-ahead aligned with `sgd`'s parameters),
    /// with the meta-gradient computed as `mode` says.
    pub fn view(&self, sgd: &Sgd, mode: MetaGradient) -> Result<L2tww<'_>> {
        Ok(L2tww {
            target: self.target.net.as_ref(),
            terms: vec![SourceTerm {
                matching: &self.matching,
                meta: &self.meta,
            }],
            meta_params: &self.phi_params,
            buffers: &self.buffers,
            lookahead: self
                .replicas
                .iter()
                .map(|r| {
                    Ok(Lookahead {
                        replica: r,
                        params: r.aligned(sgd.params())?,
                    })
                })
                .collect::<Result<_>>()?,
            cfg: L2twwConfig {
                meta_gradient: mode,
                ..self.cfg
            },
        })
    }

    /// The source's features of `x` (eval mode, no graph).
    pub fn source_features(&self, x: &Tensor) -> Vec<Tensor> {
        tch::no_grad(|| self.source.net.forward_t(x, false)).features
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
