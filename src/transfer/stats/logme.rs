//! LogME (You, Liu, Wang, Long: "LogME: Practical Assessment of Pre-trained Models for Transfer
//! Learning", ICML 2021): how well a layer's features suit a labelled target task, before any
//! training. Owns only the arithmetic; imports nothing of the crate but `error`.
//!
//! For features F (N×D) and one target column y (N), the Bayesian linear model y = Fw + ε with
//! prior w ~ N(0, α⁻¹I) and noise ε ~ N(0, β⁻¹I) has the log evidence
//!
//! ```text
//! L(α, β) = D/2·log α + N/2·log β − N/2·log 2π − β/2·‖Fm − y‖² − α/2·mᵀm − 1/2·log|A|,
//! A = αI + βFᵀF,   m = βA⁻¹Fᵀy.
//! ```
//!
//! LogME maximises L over α, β with MacKay's fixed point: from (α, β),
//! γ = Σᵢ βσᵢ²/(α + βσᵢ²), then α ← γ/mᵀm and β ← (N − γ)/‖Fm − y‖², where σᵢ² are the eigenvalues
//! of FᵀF. Everything follows from the thin SVD F = U·diag(σ)·Vᵀ (k = min(N, D) values; the
//! squares of the singular values are the eigenvalues of FᵀF) and z = Uᵀy:
//!
//! ```text
//! mᵀm       = Σᵢ (βσᵢzᵢ / (α + βσᵢ²))²
//! ‖Fm − y‖² = Σᵢ (αzᵢ / (α + βσᵢ²))² + (‖y‖² − ‖z‖²)
//! log|A|    = Σᵢ log(α + βσᵢ²) + (D − k)·log α
//! ```
//!
//! The score of a layer is L/N at the fixed point, averaged over the one-hot columns of the
//! labels (one per class present). Features are used as they are (float64), not normalised.

use crate::error::{Error, Result};
use tch::{Device, Kind, Tensor};

/// Fixed-point iterations at most (each costs O(k)).
const MAX_ITER: usize = 10_000;
/// Relative change of α and β below which the iteration has converged.
const TOL: f64 = 1e-12;
/// N − γ below which the noise is taken as vanished (β → ∞, only when N ≤ D).
const NOISE_FREE: f64 = 1e-10;

/// The SVD of one layer's features, shared by every class column.
pub struct Decomposition {
    n: usize,
    d: usize,
    /// σᵢ², the k = min(N, D) largest eigenvalues of FᵀF.
    sigma2: Vec<f64>,
    /// U (N×k, float64, CPU).
    u: Tensor,
}

/// The maximised evidence of one target column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// Prior precision α at the fixed point.
    pub alpha: f64,
    /// Noise precision β at the fixed point.
    pub beta: f64,
    /// log p(y | F, α, β) at (α, β) (not divided by N).
    pub log_evidence: f64,
    /// Iterations taken.
    pub iterations: usize,
}

impl Decomposition {
    /// Decomposes the features `f` (N×D, any float kind and device; used as float64 on the CPU).
    pub fn new(f: &Tensor) -> Result<Self> {
        let size = f.size();
        let &[n, d] = size.as_slice() else {
            return Err(Error::Invalid(format!(
                "LogME needs an N×D feature matrix, got shape {size:?}"
            )));
        };
        if n == 0 || d == 0 {
            return Err(Error::Invalid(format!(
                "LogME needs at least one sample and one feature, got {n}×{d}"
            )));
        }
        let f = f.to_device(Device::Cpu).to_kind(Kind::Double);
        let (u, s, _v) = f.f_svd(true, true)?;
        let sigma2 = Vec::<f64>::try_from(s.square())?;
        Ok(Decomposition {
            n: n as usize,
            d: d as usize,
            sigma2,
            u,
        })
    }

    /// z = Uᵀy and ‖y‖² − ‖z‖² (the part of y outside F's column space, exactly 0 when N ≤ D).
    fn project(&self, y: &[f64]) -> Result<(Vec<f64>, f64)> {
        if y.len() != self.n {
            return Err(Error::Invalid(format!(
                "LogME: {} targets for {} samples",
                y.len(),
                self.n
            )));
        }
        let z = Vec::<f64>::try_from(self.u.tr().mv(&Tensor::from_slice(y)))?;
        let outside = if self.sigma2.len() >= self.n {
            0.0
        } else {
            let yy: f64 = y.iter().map(|v| v * v).sum();
            (yy - z.iter().map(|v| v * v).sum::<f64>()).max(0.0)
        };
        Ok((z, outside))
    }

    /// (N − γ, mᵀm, ‖Fm − y‖², log|A|) at (α, β); N − γ = (N − k) + Σᵢ α/(α + βσᵢ²) is
    /// summed directly, without cancellation when γ nears N.
    fn terms(&self, z: &[f64], outside: f64, alpha: f64, beta: f64) -> (f64, f64, f64, f64) {
        let (mut free, mut mm, mut res, mut logdet) = (0.0, 0.0, outside, 0.0);
        free += (self.n - self.sigma2.len()) as f64;
        for (&s2, &zi) in self.sigma2.iter().zip(z) {
            let a = alpha + beta * s2;
            free += alpha / a;
            mm += (beta * s2.sqrt() * zi / a).powi(2);
            res += (alpha * zi / a).powi(2);
            logdet += a.ln();
        }
        logdet += (self.d - self.sigma2.len()) as f64 * alpha.ln();
        (free, mm, res, logdet)
    }

    /// The log evidence of target `y` at (α, β), by the formulas of the module doc.
    pub fn log_evidence_at(&self, y: &[f64], alpha: f64, beta: f64) -> Result<f64> {
        let (z, outside) = self.project(y)?;
        Ok(self.evidence(&z, outside, alpha, beta))
    }

    fn evidence(&self, z: &[f64], outside: f64, alpha: f64, beta: f64) -> f64 {
        let (_, mm, res, logdet) = self.terms(z, outside, alpha, beta);
        let (n, d) = (self.n as f64, self.d as f64);
        d / 2.0 * alpha.ln() + n / 2.0 * beta.ln()
            - n / 2.0 * (2.0 * std::f64::consts::PI).ln()
            - beta / 2.0 * res
            - alpha / 2.0 * mm
            - logdet / 2.0
    }

    /// Maximises the evidence of target `y` (N values) over α, β by the fixed point, from
    /// α = β = 1. Stops when α and β change by less than 1e-12 relatively, or when an update
    /// would leave (0, ∞). With N ≤ D, y lies in F's column space and β may grow without
    /// bound: the iteration then stops once N − γ < 1e-10, where the evidence has reached its
    /// noise-free limit to about that much.
    pub fn fit(&self, y: &[f64]) -> Result<Evidence> {
        let (z, outside) = self.project(y)?;
        let (mut alpha, mut beta) = (1.0f64, 1.0f64);
        let mut iterations = 0;
        while iterations < MAX_ITER {
            let (free, mm, res, _) = self.terms(&z, outside, alpha, beta);
            let (a, b) = (((self.n as f64) - free) / mm, free / res);
            if !(a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0) {
                break;
            }
            iterations += 1;
            let still = ((a - alpha) / alpha).abs() < TOL && ((b - beta) / beta).abs() < TOL;
            (alpha, beta) = (a, b);
            if still || free < NOISE_FREE {
                break;
            }
        }
        Ok(Evidence {
            alpha,
            beta,
            log_evidence: self.evidence(&z, outside, alpha, beta),
            iterations,
        })
    }
}

/// The LogME score of features `f` (N×D) for integer `labels` (N): the maximised log evidence
/// divided by N, averaged over the one-hot columns of the classes present.
pub fn logme(f: &Tensor, labels: &[i64]) -> Result<f64> {
    let dec = Decomposition::new(f)?;
    let mut classes: Vec<i64> = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    let mut total = 0.0;
    for &c in &classes {
        let y: Vec<f64> = labels
            .iter()
            .map(|&l| f64::from(u8::from(l == c)))
            .collect();
        total += dec.fit(&y)?.log_evidence / dec.n as f64;
    }
    Ok(total / classes.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Standard normal N×D values from a seeded stream (not libtorch's global generator, which
    /// tests running in parallel share).
    fn randn(n: i64, d: i64, seed: u64) -> Tensor {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let v: Vec<f64> = (0..n * d)
            .map(|_| {
                let (u, w): (f64, f64) = (rng.gen::<f64>().max(1e-300), rng.gen());
                (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * w).cos()
            })
            .collect();
        Tensor::from_slice(&v).view([n, d])
    }

    /// Features whose first `classes` coordinates carry the one-hot label, plus noise.
    fn separable(n: i64, d: i64, classes: i64, noise: f64, seed: u64) -> (Tensor, Vec<i64>) {
        let labels: Vec<i64> = (0..n).map(|i| i % classes).collect();
        let onehot = Tensor::from_slice(&labels).one_hot(d).to_kind(Kind::Double);
        (onehot * 3.0 + randn(n, d, seed) * noise, labels)
    }

    /// log p(y | F, α, β) evaluated directly with libtorch's linear algebra.
    fn direct(f: &Tensor, y: &[f64], alpha: f64, beta: f64) -> (f64, f64, f64, f64) {
        let (n, d) = (f.size()[0], f.size()[1]);
        let y = Tensor::from_slice(y);
        let ftf = f.tr().mm(f);
        let a = Tensor::eye(d, (Kind::Double, Device::Cpu)) * alpha + &ftf * beta;
        let m = Tensor::linalg_solve(&a, &f.tr().mv(&y), true) * beta;
        let res = f64::try_from((f.mv(&m) - &y).square().sum(Kind::Double)).unwrap();
        let mm = f64::try_from(m.dot(&m)).unwrap();
        let (_, logdet) = Tensor::linalg_slogdet(&a);
        let logdet = f64::try_from(logdet).unwrap();
        let (n, d) = (n as f64, d as f64);
        let ev = d / 2.0 * alpha.ln() + n / 2.0 * beta.ln()
            - n / 2.0 * (2.0 * std::f64::consts::PI).ln()
            - beta / 2.0 * res
            - alpha / 2.0 * mm
            - logdet / 2.0;
        let (eig, _) = ftf.linalg_eigh("L");
        let gamma: f64 = Vec::<f64>::try_from(eig)
            .unwrap()
            .iter()
            .map(|&l| beta * l.max(0.0) / (alpha + beta * l.max(0.0)))
            .sum();
        (ev, gamma, mm, res)
    }

    fn column(labels: &[i64], c: i64) -> Vec<f64> {
        labels
            .iter()
            .map(|&l| if l == c { 1.0 } else { 0.0 })
            .collect()
    }

    #[test]
    fn separable_features_score_higher_than_random_features_of_the_same_shape() {
        let (f, labels) = separable(120, 16, 4, 0.3, 1);
        let random = randn(120, 16, 2);
        let (good, bad) = (
            logme(&f, &labels).unwrap(),
            logme(&random, &labels).unwrap(),
        );
        assert!(good.is_finite() && bad.is_finite());
        assert!(good > bad + 0.1, "separable {good} vs random {bad}");
    }

    #[test]
    fn the_score_does_not_depend_on_the_order_of_the_samples() {
        let (f, labels) = separable(90, 12, 3, 0.5, 3);
        let order: Vec<i64> = (0..90).map(|i| (i * 37 + 11) % 90).collect();
        let perm = Tensor::from_slice(&order);
        let shuffled: Vec<i64> = order.iter().map(|&i| labels[i as usize]).collect();
        let (a, b) = (
            logme(&f, &labels).unwrap(),
            logme(&f.index_select(0, &perm), &shuffled).unwrap(),
        );
        assert!((a - b).abs() <= 1e-10 * a.abs().max(1.0), "{a} vs {b}");
    }

    #[test]
    fn the_evidence_agrees_with_a_direct_evaluation_at_the_fixed_point() {
        for (n, d, seed) in [(100, 10, 4), (64, 16, 5), (200, 32, 6), (40, 64, 9)] {
            let (f, labels) = separable(n, d, 4, 0.5, seed);
            let dec = Decomposition::new(&f).unwrap();
            for c in 0..4 {
                let y = column(&labels, c);
                let e = dec.fit(&y).unwrap();
                let (ev, ..) = direct(&f, &y, e.alpha, e.beta);
                let rel = (e.log_evidence - ev).abs() / ev.abs();
                assert!(rel < 1e-8, "{n}×{d} class {c}: {e:?} vs {ev}");
                let at = dec.log_evidence_at(&y, 0.5, 2.0).unwrap();
                let (ev, ..) = direct(&f, &y, 0.5, 2.0);
                assert!((at - ev).abs() / ev.abs() < 1e-8, "{at} vs {ev}");
            }
        }
    }

    #[test]
    fn with_fewer_samples_than_features_the_score_reaches_at_least_the_noise_free_limit() {
        // y lies in F's column space. As β → ∞ the evidence tends to
        // N/2·log(N/S) − N/2·log 2π − N/2 − 1/2·log|FFᵀ| with S = yᵀ(FFᵀ)⁻¹y (at the best α),
        // so the maximum is at least that, and equal to it when β diverges.
        let (n, d) = (40, 64);
        let mut diverged = 0;
        for seed in [5, 9] {
            let (f, labels) = separable(n, d, 4, 0.5, seed);
            let dec = Decomposition::new(&f).unwrap();
            let gram = f.mm(&f.tr());
            let (_, logdet) = Tensor::linalg_slogdet(&gram);
            let logdet = f64::try_from(logdet).unwrap();
            for c in 0..4 {
                let y = column(&labels, c);
                let e = dec.fit(&y).unwrap();
                let yt = Tensor::from_slice(&y);
                let s = f64::try_from(yt.dot(&Tensor::linalg_solve(&gram, &yt, true))).unwrap();
                let n = n as f64;
                let limit = n / 2.0 * (n / s).ln()
                    - n / 2.0 * (2.0 * std::f64::consts::PI).ln()
                    - n / 2.0
                    - logdet / 2.0;
                let tol = 1e-8 * limit.abs().max(1.0);
                assert!(
                    e.log_evidence >= limit - tol,
                    "{e:?} below the limit {limit}"
                );
                if e.beta > 1e8 * e.alpha {
                    diverged += 1;
                    assert!((e.log_evidence - limit).abs() < tol, "{e:?} vs {limit}");
                }
            }
        }
        assert!(diverged > 0, "no case reached the noise-free limit");
    }

    #[test]
    fn the_fixed_point_satisfies_the_stationarity_conditions() {
        let n = 150;
        let (f, labels) = separable(n, 8, 3, 2.0, 8);
        let dec = Decomposition::new(&f).unwrap();
        for c in 0..3 {
            let y = column(&labels, c);
            let e = dec.fit(&y).unwrap();
            assert!(e.iterations > 1 && e.iterations < MAX_ITER, "{e:?}");
            let (_, gamma, mm, res) = direct(&f, &y, e.alpha, e.beta);
            let alpha = gamma / mm;
            let beta = (n as f64 - gamma) / res;
            assert!(
                (alpha - e.alpha).abs() / e.alpha < 1e-8,
                "α {alpha} vs {e:?}"
            );
            assert!((beta - e.beta).abs() / e.beta < 1e-8, "β {beta} vs {e:?}");
        }
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(Decomposition::new(&Tensor::zeros([3], (Kind::Double, Device::Cpu))).is_err());
        let dec = Decomposition::new(&Tensor::ones([3, 2], (Kind::Double, Device::Cpu))).unwrap();
        assert!(dec.fit(&[1.0, 0.0]).is_err());
    }
}
