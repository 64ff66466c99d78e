//! The meta-gradient checked independently of the reference files: against central finite
//! differences of the look-ahead CE, with other pairs, T = 3 and T = 1, other batch sizes and
//! other λ activations than the official case. The networks here are small and smooth (tanh,
//! average pooling): with relu and max-pool the look-ahead CE is only piecewise smooth and
//! finite differences would measure kinks rather than the derivative.

use l2tww::models::{Forward, Network, Tap};
use l2tww::transfer::meta::{grads_or_zero, Sgd, SgdConfig};
use l2tww::transfer::methods::cross_entropy::cross_entropy;
use l2tww::transfer::methods::feature_matching::FeatureMatching;
use l2tww::transfer::methods::l2tww::{L2tww, L2twwConfig, Lookahead, MetaGradient, SourceTerm};
use l2tww::transfer::methods::meta_networks::{LambdaActivation, MetaNetworks};
use l2tww::transfer::methods::pairs::{check_pairs, parse_pairs};
use l2tww::transfer::methods::replica::Replica;
use tch::{nn, nn::VarStore, Device, Kind, Tensor};

/// conv3×3 → tanh (a tap) → 2×2 average pool, per width; then global average pool and a linear head.
struct SmoothNet {
    convs: Vec<nn::Conv2D>,
    fc: nn::Linear,
    taps: Vec<Tap>,
}

impl SmoothNet {
    fn new(p: &nn::Path, widths: &[i64], classes: i64) -> Self {
        let (mut convs, mut taps, mut c_in, mut down) = (Vec::new(), Vec::new(), 3, Vec::new());
        for (i, &w) in widths.iter().enumerate() {
            convs.push(nn::conv2d(
                p / i,
                c_in,
                w,
                3,
                nn::ConvConfig {
                    padding: 1,
                    ..Default::default()
                },
            ));
            taps.push(Tap::new(format!("{i}"), w, down.clone()));
            down.push((2, 2, 0));
            c_in = w;
        }
        SmoothNet {
            convs,
            fc: nn::linear(p / "fc", c_in, classes, Default::default()),
            taps,
        }
    }
}

impl Network for SmoothNet {
    fn arch(&self) -> &str {
        "smooth"
    }
    fn taps(&self) -> &[Tap] {
        &self.taps
    }
    fn num_classes(&self) -> i64 {
        self.fc.ws.size()[0]
    }
    fn forward_t(&self, x: &Tensor, _train: bool) -> Forward {
        let (mut h, mut features) = (x.shallow_clone(), Vec::new());
        for (i, c) in self.convs.iter().enumerate() {
            if i > 0 {
                h = h.avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None::<i64>);
            }
            h = h.apply(c).tanh();
            features.push(h.shallow_clone());
        }
        let pooled = h.mean_dim(&[2i64, 3][..], false, h.kind());
        let logits = pooled.apply(&self.fc);
        Forward {
            logits,
            features,
            pooled,
        }
    }
}

/// One meta-gradient case: smooth source and target networks, pairs, meta-networks moved away
/// from their initialisation, T + 1 replicas, an SGD optimizer after one plain step, a batch.
struct Case {
    target: SmoothNet,
    matching: FeatureMatching,
    meta: MetaNetworks,
    phi: Vec<Tensor>,
    replicas: Vec<Replica>,
    sgd: Sgd,
    x: Tensor,
    y: Tensor,
    src: Vec<Vec<Tensor>>,
    lookahead: usize,
    _stores: Vec<VarStore>,
}

impl Case {
    fn new(
        pairs: &str,
        lookahead: usize,
        batch: i64,
        activation: LambdaActivation,
        seed: i64,
    ) -> Self {
        tch::manual_seed(seed);
        let (dev, kind) = (Device::Cpu, Kind::Double);
        let mut source_vs = VarStore::new(dev);
        let source = SmoothNet::new(&source_vs.root(), &[6, 10, 14], 5);
        source_vs.set_kind(kind);
        let mut target_vs = VarStore::new(dev);
        let target = SmoothNet::new(&target_vs.root(), &[8, 12, 16, 20], 4);
        target_vs.set_kind(kind);
        let pairs = parse_pairs(pairs).unwrap();
        check_pairs(&pairs, source.taps(), target.taps()).unwrap();
        let mut branch_vs = VarStore::new(dev);
        let matching =
            FeatureMatching::new(&branch_vs.root(), source.taps(), target.taps(), &pairs);
        branch_vs.set_kind(kind);
        let mut meta_vs = VarStore::new(dev);
        let meta = MetaNetworks::new(
            &meta_vs.root(),
            source.taps(),
            &pairs,
            Some(activation),
            1.0,
        );
        meta_vs.set_kind(kind);
        // Move φ away from its zero initialisation so that every part of it matters.
        let phi: Vec<Tensor> = meta_vs.trainable_variables();
        tch::no_grad(|| {
            for p in &phi {
                p.shallow_clone().copy_(&(p.randn_like() * 0.3 + p));
            }
        });
        let theta: Vec<Tensor> = target_vs
            .trainable_variables()
            .into_iter()
            .chain(branch_vs.trainable_variables())
            .collect();
        let cfg = SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 5e-3,
            nesterov: false,
        };
        let mut sgd = Sgd::new(theta, cfg);
        let x = Tensor::randn([batch, 3, 16, 16], (kind, dev));
        let y = Tensor::randint(4, [batch], (Kind::Int64, dev));
        let src = vec![tch::no_grad(|| source.forward_t(&x, false)).features];
        let replicas: Vec<Replica> = (0..=lookahead)
            .map(|_| {
                let mut tvs = VarStore::new(dev);
                let net = SmoothNet::new(&tvs.root(), &[8, 12, 16, 20], 4);
                tvs.set_kind(kind);
                let mut bvs = VarStore::new(dev);
                let m = matching.replicate(&bvs);
                bvs.set_kind(kind);
                Replica::new(
                    Box::new(net),
                    vec![m],
                    &[tvs, bvs],
                    &[&target_vs, &branch_vs],
                )
            })
            .collect();
        // A plain step first, so that the momentum buffers are not trivial.
        let g = grads_or_zero(
            &cross_entropy(&target.logits_t(&x, true), &y),
            sgd.params(),
            false,
        );
        sgd.step(&g);
        Case {
            target,
            matching,
            meta,
            phi,
            replicas,
            sgd,
            x,
            y,
            src,
            lookahead,
            _stores: vec![source_vs, target_vs, branch_vs, meta_vs],
        }
    }

    fn step(&self, meta_gradient: MetaGradient) -> L2tww<'_> {
        L2tww {
            target: &self.target,
            terms: vec![SourceTerm {
                matching: &self.matching,
                meta: &self.meta,
            }],
            meta_params: &self.phi,
            buffers: &[],
            lookahead: self
                .replicas
                .iter()
                .map(|r| Lookahead {
                    replica: r,
                    params: r.aligned(self.sgd.params()).unwrap(),
                })
                .collect(),
            cfg: L2twwConfig {
                beta: 0.5,
                lookahead: self.lookahead,
                meta_gradient,
            },
            resized: None,
        }
    }

    fn meta_gradient(&self, mode: MetaGradient) -> (Vec<Tensor>, f64) {
        self.step(mode)
            .meta_gradient(&self.sgd, &self.src, &self.x, &self.y)
    }
}

fn directional_check(
    pairs: &str,
    lookahead: usize,
    batch: i64,
    activation: LambdaActivation,
    seed: i64,
) {
    let case = Case::new(pairs, lookahead, batch, activation, seed);
    let (sgd, phi, kind) = (&case.sgd, &case.phi, Kind::Double);
    let step = case.step(MetaGradient::Exact);
    let (src, x, y) = (&case.src, &case.x, &case.y);
    let before: Vec<Tensor> = sgd.params().iter().map(|p| p.detach().copy()).collect();
    let momentum: Vec<Tensor> = sgd
        .buffers()
        .iter()
        .map(|b| b.as_ref().unwrap().copy())
        .collect();
    let (grad, outer) = step.meta_gradient(sgd, src, x, y);
    // The look-ahead wrote into the replicas: the live parameters and momentum are untouched.
    for (p, b) in sgd.params().iter().zip(&before) {
        assert!(p.equal(b), "a live parameter moved during the look-ahead");
    }
    for (m, b) in sgd.buffers().iter().flatten().zip(&momentum) {
        assert!(m.equal(b), "a momentum buffer moved during the look-ahead");
    }
    let dir: Vec<Tensor> = phi.iter().map(|p| p.randn_like()).collect();
    let analytic: f64 = grad
        .iter()
        .zip(&dir)
        .map(|(g, d)| f64::try_from((g * d).sum(kind)).unwrap())
        .sum();
    let shifted = |by: f64| {
        let shift = |s: f64| {
            tch::no_grad(|| {
                phi.iter()
                    .zip(&dir)
                    .for_each(|(p, d)| drop(p.shallow_clone().f_add_(&(d * s)).unwrap()))
            })
        };
        shift(by);
        let v = step.outer_after_lookahead(sgd, src, x, y);
        shift(-by);
        v
    };
    let eps = 1e-5;
    let numeric = (shifted(eps) - shifted(-eps)) / (2.0 * eps);
    let rel = (analytic - numeric).abs() / numeric.abs();
    assert!(
        analytic.abs() > 1e-8,
        "the meta-gradient should not vanish: {analytic:e}"
    );
    assert!(
        rel < 1e-6,
        "analytic {analytic:e} vs finite difference {numeric:e} (relative {rel:e})"
    );
    // The look-ahead was rolled back: evaluating again gives the same value.
    assert_eq!(step.outer_after_lookahead(sgd, src, x, y), outer);
}

/// ‖a − b‖ / ‖b‖ over the concatenated tensors.
fn rel_err(a: &[Tensor], b: &[Tensor]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (a, b) in a.iter().zip(b) {
        num += f64::try_from((a - b).square().sum(Kind::Double)).unwrap();
        den += f64::try_from(b.square().sum(Kind::Double)).unwrap();
    }
    (num / den).sqrt()
}

#[test]
fn the_first_order_meta_gradient_departs_from_the_exact_one_at_second_order_in_lr() {
    // The mixed terms are first order in the learning rate, the Hessian terms it leaves out
    // second order: the relative error falls with lr, about linearly.
    let mut errors = Vec::new();
    for lr in [0.1, 0.01] {
        let mut case = Case::new("2-3,1-2,0-0,2-0", 2, 4, LambdaActivation::Relu6, 13);
        case.sgd.cfg.lr = lr;
        let (exact, outer_e) = case.meta_gradient(MetaGradient::Exact);
        let (first, outer_f) = case.meta_gradient(MetaGradient::FirstOrder);
        // The look-ahead itself is the same in both modes.
        assert_eq!(outer_e, outer_f);
        errors.push(rel_err(&first, &exact));
    }
    assert!(errors[0] > 1e-6, "first-order equals exact: {errors:?}");
    assert!(
        errors[1] < errors[0] / 4.0 && errors[1] < 0.05,
        "the error does not shrink with lr: {errors:?}"
    );
}

#[test]
fn meta_gradient_matches_finite_differences_with_t3_and_other_pairs() {
    directional_check("2-3,1-2,0-0,2-0,1-1", 3, 3, LambdaActivation::Relu6, 7);
}

#[test]
fn meta_gradient_matches_finite_differences_with_softplus_lambda_and_t1() {
    directional_check("0-1,2-2", 1, 5, LambdaActivation::Softplus, 11);
}

#[test]
fn meta_gradient_matches_finite_differences_with_a_constant_lambda() {
    directional_check("1-0,1-3,2-1", 2, 2, LambdaActivation::Const, 3);
}
