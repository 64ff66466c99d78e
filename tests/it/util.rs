//! Shared helpers: running the built binary, locating the reference directory, and a small
//! learnable image set in the real Parquet format.

use l2tww::data::sample::{Encoding, Sample};
use l2tww::data::store::write_split;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The reference directory beside the checkout, if present.
pub fn reference_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference");
    dir.join("resnet32_tinyimagenet.safetensors")
        .exists()
        .then_some(dir)
}

/// Runs `l2tww` with `args` and returns its output.
pub fn l2tww(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_l2tww"))
        .args(args)
        .output()
        .expect("the l2tww binary runs")
}

/// Stdout and stderr of an output, as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `n` RGB 32×32 images whose class (0–3) is the brightest quadrant, with a little noise drawn
/// from `seed`; indices from `first_index` on.
pub fn quadrant_samples(n: usize, seed: u64, first_index: u64) -> Vec<Sample> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 56) as u8
    };
    (0..n)
        .map(|i| {
            let label = (i % 4) as i64;
            let (r0, c0) = ((label / 2) * 16, (label % 2) * 16);
            let mut bytes = vec![0u8; 32 * 32 * 3];
            for r in 0..32i64 {
                for c in 0..32i64 {
                    let lit = (r0..r0 + 16).contains(&r) && (c0..c0 + 16).contains(&c);
                    for k in 0..3 {
                        bytes[((r * 32 + c) * 3 + k) as usize] =
                            if lit { 160 } else { 40 } + next() / 4;
                    }
                }
            }
            Sample {
                index: first_index + i as u64,
                label,
                height: 32,
                width: 32,
                channels: 3,
                encoding: Encoding::Raw,
                bytes,
            }
        })
        .collect()
}

/// Writes `samples` as a Parquet split with the classes `q0`…`q3`.
pub fn write_quadrants(path: &Path, samples: &[Sample]) {
    let classes: Vec<String> = (0..4).map(|c| format!("q{c}")).collect();
    write_split(
        path,
        samples,
        &classes,
        &serde_json::json!({"dataset": "quadrants"}),
    )
    .unwrap();
}

/// Images whose class is which quadrant is brightest: learnable in a few steps. Drawn from
/// a ChaCha generator of `seed`, not libtorch's global one, so that tests running beside each
/// other cannot change them.
pub fn quadrants(n: i64, seed: i64) -> (tch::Tensor, tch::Tensor) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed as u64);
    let labels: Vec<i64> = (0..n).map(|_| rng.gen_range(0..4)).collect();
    // Standard normal noise by Box–Muller, scaled as before (σ = 0.3).
    let noise: Vec<f32> = (0..n * 3 * 32 * 32)
        .map(|_| {
            let (u, v): (f64, f64) = (rng.gen_range(f64::EPSILON..1.0), rng.gen());
            (0.3 * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
        })
        .collect();
    let y = tch::Tensor::from_slice(&labels);
    let x = tch::Tensor::from_slice(&noise).reshape([n, 3, 32, 32]);
    for i in 0..n {
        let q = i64::try_from(y.get(i)).unwrap();
        let (r, c) = ((q / 2) * 16, (q % 2) * 16);
        let _ = x
            .get(i)
            .narrow(1, r, 16)
            .narrow(2, c, 16)
            .f_add_scalar_(1.5)
            .unwrap();
    }
    (x, y)
}

/// Gives every variable of `vs` a value drawn from a ChaCha generator of `seed` (weights of two
/// or more dimensions uniform in ±√(6 / fan-in), batch-norm scales 1, biases and running means
/// 0, running variances 1): an initialisation that libtorch's global generator, shared by every
/// test thread, cannot disturb.
pub fn deterministic_init(vs: &tch::nn::VarStore, seed: u64) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut vars: Vec<(String, tch::Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    tch::no_grad(|| {
        for (name, mut t) in vars {
            let size = t.size();
            let value = if size.len() >= 2 {
                let fan_in: i64 = size[1..].iter().product();
                let bound = (6.0 / fan_in as f64).sqrt();
                let v: Vec<f32> = (0..t.numel())
                    .map(|_| rng.gen_range(-bound..bound) as f32)
                    .collect();
                tch::Tensor::from_slice(&v).reshape(size.as_slice())
            } else if name.ends_with("running_var") || name.ends_with("weight") {
                tch::Tensor::ones(size.as_slice(), (tch::Kind::Float, tch::Device::Cpu))
            } else {
                tch::Tensor::zeros(size.as_slice(), (tch::Kind::Float, tch::Device::Cpu))
            };
            t.copy_(&value.to_kind(t.kind()));
        }
    });
}

/// Seeded initialisation uses libtorch's global generator: tests that rely on it run one at a time.
pub static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
