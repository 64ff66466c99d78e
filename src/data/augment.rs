//! Per-image preprocessing of the paper: resizing, grayscale to RGB, the augmentations
//! (32×32: pad 4 + random crop + horizontal flip; 224×224: random-resized crop + flip for
//! training, resize 256 + center crop 224 for evaluation) and ImageNet normalisation, written as
//! float32 CHW. Randomness comes from a caller-given per-sample stream.
use crate::data::store::Image;
use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma, Rgb};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// ImageNet channel means (RGB), as the official code normalises.
pub const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations (RGB).
pub const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// The augmentation applied to each image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Augment {
    /// 32×32 training: zero-pad 4, random crop back to size, horizontal flip with p = ½.
    Cifar32,
    /// 224×224 training: random-resized crop (scale 0.08–1, ratio ¾–4⁄3) to 224, flip.
    Imagenet224Train,
    /// 224×224 evaluation: resize the shorter side to 256, center crop 224.
    Imagenet224Eval,
    /// No augmentation (evaluation at the stored or `resize_to` size).
    #[default]
    None,
}

/// Crops (x, y, w, h) of `img` and resizes it to `ow`×`oh` with an antialiased bilinear filter.
pub fn crop_resize(
    img: &Image,
    (x, y, w, h): (usize, usize, usize, usize),
    ow: usize,
    oh: usize,
) -> Image {
    let c = img.channels;
    let mut cropped = Vec::with_capacity(w * h * c);
    for row in y..y + h {
        let start = (row * img.width + x) * c;
        cropped.extend_from_slice(&img.pixels[start..start + w * c]);
    }
    fn go<P: image::Pixel<Subpixel = u8> + 'static>(
        pixels: Vec<u8>,
        w: usize,
        h: usize,
        ow: usize,
        oh: usize,
    ) -> Vec<u8> {
        let buf: ImageBuffer<P, Vec<u8>> = ImageBuffer::from_raw(w as u32, h as u32, pixels)
            .expect("pixel count matches the shape");
        imageops::resize(&buf, ow as u32, oh as u32, FilterType::Triangle).into_raw()
    }
    let pixels = if w == ow && h == oh {
        cropped
    } else if c == 1 {
        go::<Luma<u8>>(cropped, w, h, ow, oh)
    } else {
        go::<Rgb<u8>>(cropped, w, h, ow, oh)
    };
    Image {
        height: oh,
        width: ow,
        channels: c,
        pixels,
    }
}

/// Replicates a single channel three times.
pub fn gray_to_rgb(img: Image) -> Image {
    if img.channels != 1 {
        return img;
    }
    let pixels = img.pixels.iter().flat_map(|&v| [v, v, v]).collect();
    Image {
        channels: 3,
        pixels,
        ..img
    }
}

/// torchvision's RandomResizedCrop parameters (x, y, w, h) for an image of `width`×`height`
/// (rounding half to even, as Python's `round`).
fn rrc_params(width: usize, height: usize, rng: &mut ChaCha8Rng) -> (usize, usize, usize, usize) {
    let area = (width * height) as f64;
    let (lo, hi) = ((3.0f64 / 4.0).ln(), (4.0f64 / 3.0).ln());
    for _ in 0..10 {
        let target = area * rng.gen_range(0.08..1.0);
        let ratio = rng.gen_range(lo..hi).exp();
        let w = (target * ratio).sqrt().round_ties_even() as usize;
        let h = (target / ratio).sqrt().round_ties_even() as usize;
        if 0 < w && w <= width && 0 < h && h <= height {
            let y = rng.gen_range(0..=height - h);
            let x = rng.gen_range(0..=width - w);
            return (x, y, w, h);
        }
    }
    let in_ratio = width as f64 / height as f64;
    let (w, h) = if in_ratio < 0.75 {
        (
            width,
            ((width as f64 / 0.75).round_ties_even() as usize).min(height),
        )
    } else if in_ratio > 4.0 / 3.0 {
        (
            ((height as f64 * 4.0 / 3.0).round_ties_even() as usize).min(width),
            height,
        )
    } else {
        (width, height)
    };
    ((width - w) / 2, (height - h) / 2, w, h)
}

/// Shape-changing steps before the final crop/flip: `resize_to`, grayscale to RGB, and the
/// 224×224 crops. Returns the image and whether to flip it.
pub fn geometry(
    img: Image,
    augment: Augment,
    resize_to: Option<usize>,
    to_rgb: bool,
    rng: &mut ChaCha8Rng,
) -> Image {
    let mut img = img;
    if let Some(s) = resize_to {
        if img.width != s || img.height != s {
            img = crop_resize(&img, (0, 0, img.width, img.height), s, s);
        }
    }
    if to_rgb {
        img = gray_to_rgb(img);
    }
    match augment {
        Augment::Imagenet224Train => {
            let r = rrc_params(img.width, img.height, rng);
            crop_resize(&img, r, 224, 224)
        }
        Augment::Imagenet224Eval => {
            let (w, h) = (img.width, img.height);
            let (nw, nh) = if w <= h {
                (256, (256 * h) / w)
            } else {
                ((256 * w) / h, 256)
            };
            let resized = crop_resize(&img, (0, 0, w, h), nw, nh);
            let (x, y) = (
                ((nw - 224) as f64 / 2.0).round_ties_even() as usize,
                ((nh - 224) as f64 / 2.0).round_ties_even() as usize,
            );
            crop_resize(&resized, (x, y, 224, 224), 224, 224)
        }
        _ => img,
    }
}

/// Per-channel lookup tables from a byte to its float32 value: as torchvision, ToTensor divides
/// by 255 and Normalize subtracts the ImageNet mean and divides by the std (or only the division
/// when not normalising). Single-channel images use the first channel's table.
pub fn tables(normalize: bool) -> [[f32; 256]; 3] {
    std::array::from_fn(|ch| {
        std::array::from_fn(|v| {
            let t = v as f32 / 255.0;
            if normalize {
                (t - MEAN[ch]) / STD[ch]
            } else {
                t
            }
        })
    })
}

/// Writes `img` as float32 CHW into `out` (length c·h·w) through `tables` (see [`tables`]),
/// applying the 32×32 pad-crop (when `augment` is [`Augment::Cifar32`]) and the horizontal flip
/// (Cifar32 and Imagenet224Train). Padding is zero in pixel space, as torchvision pads before
/// normalising.
pub fn write_chw(
    img: &Image,
    augment: Augment,
    tables: &[[f32; 256]; 3],
    rng: &mut ChaCha8Rng,
    out: &mut [f32],
) {
    let (h, w, c) = (img.height, img.width, img.channels);
    let (dy, dx) = if augment == Augment::Cifar32 {
        (rng.gen_range(0..=8i64) - 4, rng.gen_range(0..=8i64) - 4)
    } else {
        (0, 0)
    };
    let flip = matches!(augment, Augment::Cifar32 | Augment::Imagenet224Train) && rng.gen_bool(0.5);
    for (ch, lut) in tables.iter().enumerate().take(c) {
        let plane = &mut out[ch * h * w..(ch + 1) * h * w];
        for y in 0..h {
            let sy = y as i64 + dy;
            let inside_y = sy >= 0 && sy < h as i64;
            for x in 0..w {
                let xx = if flip { w - 1 - x } else { x };
                let sx = xx as i64 + dx;
                let v = if !inside_y || sx < 0 || sx >= w as i64 {
                    0
                } else {
                    img.pixels[(sy as usize * w + sx as usize) * c + ch]
                };
                plane[y * w + x] = lut[v as usize];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::rng::stream;

    fn ramp(h: usize, w: usize) -> Image {
        Image {
            height: h,
            width: w,
            channels: 3,
            pixels: (0..h * w * 3).map(|i| (i % 251) as u8).collect(),
        }
    }

    #[test]
    fn without_augmentation_pixels_are_scaled_and_normalised_in_chw_order() {
        let img = ramp(2, 2);
        let mut out = vec![0.0; 12];
        write_chw(
            &img,
            Augment::None,
            &tables(false),
            &mut stream("t", &[0]),
            &mut out,
        );
        assert_eq!(out[1], 3.0 / 255.0); // channel 0, pixel (0,1) = byte 3
        assert_eq!(out[4], 1.0 / 255.0); // channel 1, pixel (0,0) = byte 1
        write_chw(
            &img,
            Augment::None,
            &tables(true),
            &mut stream("t", &[0]),
            &mut out,
        );
        assert_eq!(out[0], (0.0 - MEAN[0]) / STD[0]);
        assert_eq!(out[5], (4.0 / 255.0 - MEAN[1]) / STD[1]);
    }

    #[test]
    fn the_cifar_crop_keeps_size_and_shifts_by_at_most_four_pixels() {
        let img = ramp(32, 32);
        let mut seen_pad = false;
        for s in 0..20 {
            let mut out = vec![0.0; 3 * 32 * 32];
            write_chw(
                &img,
                Augment::Cifar32,
                &tables(false),
                &mut stream("t", &[s]),
                &mut out,
            );
            seen_pad |= out.iter().filter(|&&v| v == 0.0).count() >= 32;
        }
        assert!(seen_pad, "some crops reach into the zero padding");
    }

    #[test]
    fn imagenet_geometry_gives_224_squares_from_any_shape() {
        let img = ramp(300, 200);
        for a in [Augment::Imagenet224Train, Augment::Imagenet224Eval] {
            let g = geometry(img.clone(), a, None, true, &mut stream("t", &[1]));
            assert_eq!((g.height, g.width, g.channels), (224, 224, 3));
        }
        let gray = Image {
            height: 96,
            width: 96,
            channels: 1,
            pixels: vec![7; 96 * 96],
        };
        let g = geometry(gray, Augment::None, Some(32), true, &mut stream("t", &[1]));
        assert_eq!((g.height, g.width, g.channels, g.pixels[5]), (32, 32, 3, 7));
    }

    #[test]
    fn the_eval_center_crop_rounds_half_to_even_as_torchvision() {
        // a 256×341 image needs no resize; its crop starts at row (341 − 224) / 2 = 58.5 → 58
        let img = Image {
            height: 341,
            width: 256,
            channels: 1,
            pixels: (0..341 * 256).map(|i| (i / 256) as u8).collect(),
        };
        let g = geometry(
            img,
            Augment::Imagenet224Eval,
            None,
            false,
            &mut stream("t", &[0]),
        );
        assert_eq!((g.height, g.width), (224, 224));
        assert_eq!(g.pixels[0], 58, "first row kept is source row 58");
    }
}
