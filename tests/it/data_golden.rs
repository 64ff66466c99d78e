//! Resizing against the reference: the expected images in `tests/it/golden/` were made by
//! torch 2.13 (the venv's) with `interpolate(mode="bilinear", antialias=True,
//! align_corners=False)`, rounded to uint8 — the antialiased bilinear resize of PIL that
//! torchvision's `Resize` applies. The inputs are the pattern below, in both languages:
//!
//! ```text
//! pattern(h, w, c)[y][x][k] = ((x*x*7 + y*13 + k*101) ^ (x*y)) & 255
//! y = interpolate(img.permute(2,0,1)[None].float(), size=(o,o), mode='bilinear',
//!                 antialias=True, align_corners=False).round().clamp(0,255).to(uint8)
//! ```
use l2tww::data::augment::crop_resize;
use l2tww::data::Image;
use std::path::PathBuf;

fn pattern(side: usize, c: usize) -> Image {
    let mut pixels = Vec::with_capacity(side * side * c);
    for y in 0..side {
        for x in 0..side {
            for k in 0..c {
                pixels.push((((x * x * 7 + y * 13 + k * 101) ^ (x * y)) & 255) as u8);
            }
        }
    }
    Image {
        height: side,
        width: side,
        channels: c,
        pixels,
    }
}

#[test]
fn resizing_to_32_matches_torchs_antialiased_bilinear_within_one_level() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/golden");
    for (side, c) in [(96, 3), (64, 3), (28, 1)] {
        let want = std::fs::read(dir.join(format!("resize_{side}x{side}x{c}_to_32.bin"))).unwrap();
        let got = crop_resize(&pattern(side, c), (0, 0, side, side), 32, 32);
        assert_eq!(got.pixels.len(), want.len());
        let diffs: Vec<i32> = got
            .pixels
            .iter()
            .zip(&want)
            .map(|(a, b)| (*a as i32 - *b as i32).abs())
            .collect();
        let exact = diffs.iter().filter(|&&d| d == 0).count();
        assert!(
            diffs.iter().all(|&d| d <= 1),
            "{side}x{side}: a pixel is off by more than one level"
        );
        // one-level differences come from rounding (torch and image-rs accumulate and round the
        // weighted sums differently)
        assert!(
            exact * 100 >= diffs.len() * 90,
            "{side}x{side}: only {exact}/{} exact",
            diffs.len()
        );
    }
}
