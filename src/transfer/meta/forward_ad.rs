//! Forward-mode automatic differentiation through libtorch: dual tensors carry a tangent next
//! to their value, and every operation computes the directional derivative alongside the value
//! (one pass, no graph). tch exposes `_make_dual`/`_unpack_dual` but not the dual level they
//! live in, so the level is entered and released through libtorch's own `ForwardADLevel`
//! (what `torch.autograd.forward_ad.dual_level` calls). libtorch allows one level at a time in
//! a process; a lock serialises the users here.

use std::sync::Mutex;
use tch::Tensor;

extern "C" {
    // torch::autograd::ForwardADLevel::get_next_idx() and ::release_idx(uint64_t): static member
    // functions taking and returning plain integers, so the C calling convention applies.
    #[link_name = "_ZN5torch8autograd14ForwardADLevel12get_next_idxEv"]
    fn forward_ad_level_enter() -> u64;
    #[link_name = "_ZN5torch8autograd14ForwardADLevel11release_idxEm"]
    fn forward_ad_level_release(idx: u64);
}

static ONE_LEVEL: Mutex<()> = Mutex::new(());

/// A dual level: tensors made dual at it lose their tangents when it is dropped.
pub struct DualLevel {
    idx: u64,
}

impl DualLevel {
    /// `primal` with tangent `tangent` at this level.
    pub fn make_dual(&self, primal: &Tensor, tangent: &Tensor) -> Tensor {
        Tensor::internal_make_dual(primal, tangent, self.idx as i64)
    }

    /// The tangent of `dual` at this level (zeros when it has none).
    pub fn tangent(&self, dual: &Tensor) -> Tensor {
        let (_, t) = Tensor::internal_unpack_dual(dual, self.idx as i64);
        if t.defined() {
            t
        } else {
            dual.zeros_like()
        }
    }

    /// Gives the leaf parameters `params` the tangents `tangents` in place (values unchanged),
    /// so that a network reading them computes directional derivatives along `tangents`.
    pub fn set_tangents(&self, params: &[Tensor], tangents: &[Tensor]) {
        tch::no_grad(|| {
            for (p, t) in params.iter().zip(tangents) {
                let dual = self.make_dual(&p.detach().copy(), t);
                p.shallow_clone().copy_(&dual);
            }
        });
    }
}

impl Drop for DualLevel {
    fn drop(&mut self) {
        // SAFETY: `idx` came from `forward_ad_level_enter` and is released once; releasing the
        // newest level cannot throw.
        unsafe { forward_ad_level_release(self.idx) }
    }
}

/// Runs `f` inside a fresh dual level (waiting for any other user of forward mode in this
/// process); every tangent made at it is gone when `f` returns.
pub fn with_dual_level<R>(f: impl FnOnce(&DualLevel) -> R) -> R {
    let _only = ONE_LEVEL.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: no other level exists (the lock), so entering cannot throw ("nested forward mode
    // AD is not supported").
    let level = DualLevel {
        idx: unsafe { forward_ad_level_enter() },
    };
    f(&level)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Kind, Tensor};

    #[test]
    fn tangents_are_directional_derivatives_and_vanish_with_the_level() {
        let x = Tensor::from_slice(&[1.0f64, -2.0, 3.0]).set_requires_grad(true);
        let v = Tensor::from_slice(&[0.5f64, 1.0, -1.0]);
        let d = with_dual_level(|level| {
            level.set_tangents(std::slice::from_ref(&x), std::slice::from_ref(&v));
            // d/dε sum(sin(x + εv)·x²)… written per element: (cos(x)·x² + 2x·sin(x))·v.
            let y = x.sin() * x.square();
            level.tangent(&y)
        });
        let want = (x.cos() * x.square() + &x * x.sin() * 2.0) * &v;
        let err = f64::try_from((&d - want.detach()).abs().max()).unwrap();
        assert!(err < 1e-12, "tangent off by {err}");
        // Outside the level x is an ordinary leaf again: no tangent at a new level.
        let again = with_dual_level(|level| level.tangent(&(&x * 2.0)));
        assert_eq!(f64::try_from(again.abs().sum(Kind::Double)).unwrap(), 0.0);
        assert!(x.requires_grad() && x.is_leaf());
    }

    #[test]
    fn levels_from_several_threads_take_turns() {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                std::thread::spawn(move || {
                    let x = Tensor::from(i as f64 + 1.0).set_requires_grad(true);
                    let t = with_dual_level(|level| {
                        level.set_tangents(std::slice::from_ref(&x), &[Tensor::from(1.0f64)]);
                        level.tangent(&x.square())
                    });
                    f64::try_from(t).unwrap()
                })
            })
            .collect();
        let got: Vec<f64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(got, vec![2.0, 4.0, 6.0, 8.0]);
    }
}
