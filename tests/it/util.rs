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

/// Images whose class is which quadrant is brightest: learnable in a few steps.
pub fn quadrants(n: i64, seed: i64) -> (tch::Tensor, tch::Tensor) {
    tch::manual_seed(seed);
    let y = tch::Tensor::randint(4, [n], (tch::Kind::Int64, tch::Device::Cpu));
    let x = tch::Tensor::randn([n, 3, 32, 32], (tch::Kind::Float, tch::Device::Cpu)) * 0.3;
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

/// Seeded initialisation uses libtorch's global generator: tests that rely on it run one at a time.
pub static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
