//! `l2t-w` and `l2t-ww` as a method on the engine: the matching term (weighted by w, and by λ for
//! L2T-ww) is added to the cross-entropy, and after every SGD step the meta-networks take their
//! meta-gradient step (look-ahead into T + 1 replicas of the target, exact second order, the
//! target left as it was; see `l2tww`). With several sources each has its own 1×1 convs and
//! meta-networks. Over the validation set it records the mean λ and the mean entropy of w of
//! every pair. The source maps its matching term resizes for the live step are reused by the
//! look-ahead on the same batch. This is the one L2T path: training, the benchmark, the
//! conformance cases and the fidelity bench all build it with [`L2t::new`] and step it with the
//! engine's `train_step`.

use super::feature_matching::FeatureMatching;
use super::fm::{matching_per_source, named_params, state_tensor};
use super::l2t_options::L2tOptions;
use super::l2tww::{L2tww, L2twwConfig, Lookahead, MetaGradient, SourceTerm};
use super::meta_networks::MetaNetworks;
use super::meta_optimizer::MetaOptimizer;
pub use super::meta_optimizer::MetaOptimizerKind;
use super::pairs::Pair;
use super::replica::Replica;
use super::standardize::Standardization;
use super::BuildContext;
use crate::error::{Error, Result};
use crate::transfer::engine::{AfterStep, Method, StepContext};
use crate::transfer::phases::phase;
use crate::transfer::record::columns::{ENTROPY, LAMBDA};
use std::cell::RefCell;
use tch::{nn::VarStore, Kind, Tensor};

/// What the last meta step computed.
pub struct MetaStep {
    /// The meta-gradient before the optimizer's step, by parameter name (as
    /// [`L2t::meta_params`] names them).
    pub grad: Vec<(String, Tensor)>,
    /// The cross-entropy after the look-ahead, which the meta-gradient differentiates.
    pub outer_ce: f64,
}

/// L2T-w / L2T-ww over one or more sources.
pub struct L2t {
    name: &'static str,
    branch_stores: Vec<VarStore>,
    matching: Vec<FeatureMatching>,
    meta_store: VarStore,
    meta: Vec<MetaNetworks>,
    replicas: Vec<Replica>,
    meta_params: Vec<(String, Tensor)>,
    opt: MetaOptimizer,
    /// The last meta step's gradient and look-ahead CE.
    last: Option<MetaStep>,
    /// Its options as written (β, T, the meta step's period and mode, the frozen control, …).
    options: L2tOptions,
    /// Training batches seen (for `meta_every`; kept in checkpoints).
    batches: u64,
    sums: Vec<Vec<(f64, f64)>>,
    seen: f64,
    /// The resized source maps the live step's matching term computed, kept for the look-ahead
    /// on the same batch (taken after the step).
    resized: RefCell<Option<ResizedMaps>>,
}

/// Per source, each pair's source map resized to the target's, with the source features they
/// were computed from: held, so their memory cannot pass to another batch's features, which
/// tells a later batch from this one.
struct ResizedMaps {
    sources: Vec<Tensor>,
    maps: Vec<Vec<Tensor>>,
}

impl ResizedMaps {
    /// The maps, when `sources` are the features they were computed from.
    fn of(&self, sources: &[Vec<Tensor>]) -> Option<Vec<Vec<Tensor>>> {
        let same = self.sources.len() == sources.iter().map(Vec::len).sum::<usize>()
            && self
                .sources
                .iter()
                .zip(sources.iter().flatten())
                .all(|(a, b)| a.data_ptr() == b.data_ptr() && a.size() == b.size());
        same.then(|| {
            self.maps
                .iter()
                .map(|m| m.iter().map(Tensor::shallow_clone).collect())
                .collect()
        })
    }
}

impl L2t {
    /// Builds `l2t-ww` (when `ww`, else `l2t-w`) with options `o`: the 1×1 convs and
    /// meta-networks of its pair scheme for every source, and a meta optimizer (an SGD one
    /// takes the target's momentum).
    pub fn new(ctx: &BuildContext, o: &L2tOptions, ww: bool) -> Result<Self> {
        let (mut branch_stores, mut matching, mut meta) = (Vec::new(), Vec::new(), Vec::new());
        let mut meta_store = VarStore::new(ctx.device);
        if !o.standardize.is_empty() && o.standardize.len() != ctx.sources.len() {
            return Err(Error::Invalid(format!(
                "`standardize` names {} statistics files for {} source networks; give one per source",
                o.standardize.len(),
                ctx.sources.len()
            )));
        }
        let lambda = o.lambda_activation(ww);
        for (i, ((vs, m, pairs), source)) in matching_per_source(ctx, &o.pair_scheme(ww))?
            .into_iter()
            .zip(ctx.sources)
            .enumerate()
        {
            let root = meta_store.root() / format!("s{i}");
            let mut nets =
                MetaNetworks::new(&root, source.net.taps(), &pairs, lambda, o.lambda_init);
            if let Some(path) = o.standardize.get(i) {
                let needed: Vec<usize> = pairs.iter().map(|p| p.source).collect();
                nets = nets.with_standardization(Standardization::read(
                    path,
                    &source.arch.to_string(),
                    source.net.taps(),
                    &needed,
                    ctx.device,
                    ctx.kind,
                )?);
            }
            meta.push(nets);
            branch_stores.push(vs);
            matching.push(m);
        }
        if meta.is_empty() {
            return Err(Error::Invalid(
                "l2t-w and l2t-ww need at least one source network".into(),
            ));
        }
        meta_store.set_kind(ctx.kind);
        let replicas = {
            let m: Vec<&FeatureMatching> = matching.iter().collect();
            let stores: Vec<&VarStore> = branch_stores.iter().collect();
            // The frozen control never looks ahead: no replicas to hold.
            let n = if o.frozen { 0 } else { o.lookahead + 1 };
            (0..n)
                .map(|_| Replica::of_model(ctx.target, &m, &stores))
                .collect::<Result<Vec<_>>>()?
        };
        let mut meta_params: Vec<(String, Tensor)> = meta_store
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        meta_params.sort_by(|a, b| a.0.cmp(&b.0));
        if o.frozen {
            // Never stepped: the target's backward need not reach them.
            for (_, t) in &meta_params {
                let _ = t.shallow_clone().set_requires_grad(false);
            }
        }
        let tensors: Vec<Tensor> = meta_params.iter().map(|(_, t)| t.shallow_clone()).collect();
        let opt = MetaOptimizer::new(
            o.meta_optimizer,
            tensors,
            o.meta_lr,
            o.meta_wd,
            ctx.momentum,
        );
        let sums = meta
            .iter()
            .map(|m| vec![(0.0, 0.0); m.pairs().len()])
            .collect();
        let name = if ww { "l2t-ww" } else { "l2t-w" };
        Ok(L2t {
            name,
            branch_stores,
            matching,
            meta_store,
            meta,
            replicas,
            meta_params,
            opt,
            last: None,
            options: o.clone(),
            batches: 0,
            sums,
            seen: 0.0,
            resized: RefCell::new(None),
        })
    }

    fn label(&self, source: usize, p: &Pair) -> String {
        format!("s{source}.{}-{}", p.source, p.target)
    }

    /// The meta-networks' parameters by name (`s{i}.wnet.{j}.weight`, `s{i}.lwnet.{j}.bias`, …),
    /// sorted: the order of the meta-gradient and of the meta optimizer.
    pub fn meta_params(&self) -> Vec<(String, Tensor)> {
        self.meta_params
            .iter()
            .map(|(n, t)| (n.clone(), t.shallow_clone()))
            .collect()
    }

    /// What the last meta step computed; None before the first (and always when frozen).
    pub fn last_meta_step(&self) -> Option<&MetaStep> {
        self.last.as_ref()
    }

    /// The meta-gradient (in the order of [`L2t::meta_params`]) computed as `mode` says after the
    /// SGD step `step` took, and the CE after the look-ahead it differentiates. Nothing is
    /// stepped: the target, its 1×1 convs and their momentum are left as they were, the
    /// batch-norm statistics as the official loop leaves them (see `l2tww`).
    pub fn meta_gradient(
        &self,
        step: &AfterStep,
        mode: MetaGradient,
    ) -> Result<(Vec<Tensor>, f64)> {
        if self.replicas.is_empty() {
            return Err(Error::Invalid(format!(
                "this {} is frozen: it has no look-ahead and no meta-gradient",
                self.name
            )));
        }
        let lookahead = self
            .replicas
            .iter()
            .map(|r| {
                Ok(Lookahead {
                    replica: r,
                    params: r.aligned(step.sgd.params())?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let tensors: Vec<Tensor> = self
            .meta_params
            .iter()
            .map(|(_, t)| t.shallow_clone())
            .collect();
        let terms = self
            .matching
            .iter()
            .zip(&self.meta)
            .map(|(matching, meta)| SourceTerm { matching, meta })
            .collect();
        let view = L2tww {
            target: step.target,
            terms,
            meta_params: &tensors,
            buffers: step.buffers,
            lookahead,
            cfg: L2twwConfig {
                beta: self.options.beta,
                lookahead: self.options.lookahead,
                meta_gradient: mode,
            },
            resized: self
                .resized
                .borrow()
                .as_ref()
                .and_then(|r| r.of(step.sources)),
        };
        Ok(view.meta_gradient(&*step.sgd, step.sources, step.x, step.y))
    }

    /// After a training step: the meta step, when this batch has one (every `meta_every`-th).
    fn meta_step(&mut self, step: &AfterStep) -> Result<()> {
        if step.sgd.cfg.nesterov {
            return Err(Error::Invalid(format!(
                "{}'s look-ahead uses heavy-ball momentum, as the official code: set `nesterov: false`",
                self.name
            )));
        }
        // As the official loop counts: the meta step follows batches k, 2k, … (1-based).
        self.batches += 1;
        let every = self.options.meta_every.max(1) as u64;
        if self.options.frozen || !self.batches.is_multiple_of(every) {
            return Ok(());
        }
        let (grad, outer_ce) = self.meta_gradient(step, self.options.meta_gradient)?;
        phase(|| "meta optimizer's step".into(), || self.opt.step(&grad));
        let names = self.meta_params.iter().map(|(n, _)| n.clone());
        self.last = Some(MetaStep {
            grad: names.zip(grad).collect(),
            outer_ce,
        });
        Ok(())
    }
}

impl Method for L2t {
    fn name(&self) -> &str {
        self.name
    }

    fn trained_params(&self) -> Vec<(String, Tensor)> {
        named_params(&self.branch_stores)
    }

    fn terms(&self, ctx: &StepContext) -> Vec<(String, Tensor)> {
        let mut total: Option<Tensor> = None;
        let mut maps = Vec::new();
        for ((m, mn), s) in self.matching.iter().zip(&self.meta).zip(ctx.sources) {
            let target = &ctx.target.features;
            let resized = m.resized(&s.features, target);
            let errs = m.errors_of_resized(&resized, target);
            let t = mn.weighted_loss_of_errors(&errs, &s.features, self.options.beta);
            maps.push(resized);
            total = Some(match total {
                None => t,
                Some(acc) => acc + t,
            });
        }
        let sources = ctx.sources.iter().flat_map(|s| &s.features);
        *self.resized.borrow_mut() = Some(ResizedMaps {
            sources: sources.map(Tensor::shallow_clone).collect(),
            maps,
        });
        total
            .map(|t| vec![("wfm".to_string(), t)])
            .unwrap_or_default()
    }

    fn after_step(&mut self, step: AfterStep) -> Result<()> {
        let result = self.meta_step(&step);
        *self.resized.borrow_mut() = None;
        result
    }

    fn state(&self) -> Vec<(String, Tensor)> {
        let mut s: Vec<(String, Tensor)> = self
            .meta_params
            .iter()
            .map(|(n, t)| (format!("meta.{n}"), t.shallow_clone()))
            .collect();
        s.push(("batches".into(), Tensor::from(self.batches as i64)));
        s.extend(self.opt.state());
        s
    }

    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        let get = |n: &str| state_tensor(state, n);
        let missing = |n: &str| Error::Invalid(format!("checkpoint lacks `method.{n}`"));
        tch::no_grad(|| -> Result<()> {
            for (n, t) in &self.meta_params {
                let src = get(&format!("meta.{n}")).ok_or_else(|| missing(&format!("meta.{n}")))?;
                t.shallow_clone()
                    .copy_(&src.to_kind(t.kind()).to_device(t.device()));
            }
            Ok(())
        })?;
        self.batches = i64::try_from(get("batches").ok_or_else(|| missing("batches"))?)? as u64;
        let device = self.meta_store.device();
        self.opt.load_state(state, self.meta_params.len(), device)
    }

    fn observes_eval(&self) -> bool {
        true
    }

    fn observe_eval(&mut self, sources: &[Vec<Tensor>]) {
        let batch = sources
            .first()
            .and_then(|s| s.first())
            .map_or(0, |f| f.size()[0]) as f64;
        for (s, (meta, feats)) in self.meta.iter().zip(sources).enumerate() {
            let w = meta.what(feats);
            let l = meta.where_(feats);
            for (i, w) in w.iter().enumerate() {
                let h = -(w * w.clamp_min(1e-30).log())
                    .sum_dim_intlist(1, false, Kind::Double)
                    .sum(Kind::Double);
                let lam = l.as_ref().map_or(batch, |l| {
                    f64::try_from(l[i].sum(Kind::Double)).unwrap_or(f64::NAN) * batch
                        / l[i].size()[0] as f64
                });
                self.sums[s][i].0 += lam;
                self.sums[s][i].1 += f64::try_from(h).unwrap_or(f64::NAN);
            }
        }
        self.seen += batch;
    }

    fn take_eval_stats(&mut self) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        let n = self.seen.max(1.0);
        for (s, meta) in self.meta.iter().enumerate() {
            for (i, p) in meta.pairs().iter().enumerate() {
                let (lam, ent) = self.sums[s][i];
                out.push((format!("{LAMBDA}{}", self.label(s, p)), lam / n));
                out.push((format!("{ENTROPY}{}", self.label(s, p)), ent / n));
                self.sums[s][i] = (0.0, 0.0);
            }
        }
        self.seen = 0.0;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::ResizedMaps;
    use tch::{Kind, Tensor};

    #[test]
    fn resized_maps_are_reused_only_for_the_features_they_came_from() {
        let feats = [vec![Tensor::ones(
            [2, 3, 4, 4],
            (Kind::Float, tch::Device::Cpu),
        )]];
        let memo = ResizedMaps {
            sources: feats.iter().flatten().map(Tensor::shallow_clone).collect(),
            maps: vec![vec![Tensor::zeros(
                [2, 3, 8, 8],
                (Kind::Float, tch::Device::Cpu),
            )]],
        };
        let same: Vec<Vec<Tensor>> = vec![vec![feats[0][0].shallow_clone()]];
        let maps = memo.of(&same).expect("the same features");
        assert_eq!(maps[0][0].size(), [2, 3, 8, 8]);
        // Equal values in other memory are another batch's features; so is a missing source.
        assert!(memo.of(&[vec![feats[0][0].copy()]]).is_none());
        assert!(memo.of(&[]).is_none());
        let two = vec![vec![
            feats[0][0].shallow_clone(),
            feats[0][0].shallow_clone(),
        ]];
        assert!(memo.of(&two).is_none());
    }
}
