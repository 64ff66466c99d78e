//! The wall-clock time of the named phases of a training step — the sources' forward pass, the
//! live step, each look-ahead step, the outer gradient, each Hessian-vector product, the
//! forward-mode pass, the meta optimizer's step — recorded only inside [`recording`] (what
//! `l2tww bench --phases` prints). Outside it a phase costs one thread-local check. Phases do
//! not nest: each is a leaf of the step, so their times add up to the step's less the glue.

use std::cell::RefCell;
use std::time::Instant;
use tch::Device;

struct Recorder {
    device: Device,
    phases: Vec<(String, f64)>,
}

thread_local! {
    static RECORDER: RefCell<Option<Recorder>> = const { RefCell::new(None) };
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// Runs `f` as the phase `name` (called only while recording).
pub fn phase<R>(name: impl FnOnce() -> String, f: impl FnOnce() -> R) -> R {
    let Some(device) = RECORDER.with_borrow(|r| r.as_ref().map(|r| r.device)) else {
        return f();
    };
    sync(device);
    let start = Instant::now();
    let out = f();
    sync(device);
    let ms = start.elapsed().as_secs_f64() * 1e3;
    RECORDER.with_borrow_mut(|r| {
        if let Some(r) = r {
            r.phases.push((name(), ms));
        }
    });
    out
}

/// Runs `f` on `device` and returns what it returned and the phases it went through, in order,
/// with their milliseconds.
pub fn recording<R>(device: Device, f: impl FnOnce() -> R) -> (R, Vec<(String, f64)>) {
    let outer = RECORDER.replace(Some(Recorder {
        device,
        phases: Vec::new(),
    }));
    let out = f();
    let rec = RECORDER.replace(outer);
    (out, rec.map(|r| r.phases).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_recorded_in_order_only_while_recording() {
        let busy = |ms| std::thread::sleep(std::time::Duration::from_millis(ms));
        assert_eq!(phase(|| "alone".into(), || 3), 3);
        let (v, phases) = recording(Device::Cpu, || {
            phase(|| "a".into(), || busy(20));
            phase(|| "b".into(), || busy(1));
            7
        });
        assert_eq!(v, 7);
        let names: Vec<&str> = phases.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(phases[0].1 >= 20.0 && phases[1].1 >= 1.0, "{phases:?}");
        // Nothing is left recording afterwards.
        let (_, again) = recording(Device::Cpu, || ());
        assert!(again.is_empty());
        assert!(RECORDER.with_borrow(|r| r.is_none()));
    }
}
