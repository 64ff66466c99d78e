//! The CPU threads of a local run, shared among the children as they start. A stage that
//! computes with libtorch (training, source statistics) always gets the same share, the total
//! over `-j`: float32 results depend on the thread count (reductions split differently), so a
//! share that followed the timing of a run would make its numbers irreproducible. Other stages
//! (datasets, subsets, reports) get the threads that are free when they start, divided among
//! those starting at that moment. The threads in use never exceed the total: a ready instance
//! waits for threads as it waits for a slot. When `-j` asks for more instances than there are
//! threads, each child gets one thread, as asked. A child keeps its threads until it ends.

/// The threads and slots of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    total: usize,
    slots: usize,
    used: usize,
    running: usize,
}

impl Budget {
    /// `total` threads (at least one) for at most `jobs` children at once.
    pub fn new(total: usize, jobs: usize) -> Budget {
        Budget {
            total: total.max(1),
            slots: jobs.max(1),
            used: 0,
            running: 0,
        }
    }

    /// The share of a libtorch stage: the total over the slots (at least one).
    pub fn share(&self) -> usize {
        (self.total / self.slots).max(1)
    }

    /// The threads of each child that may start now, for the ready instances in order (`true`
    /// for one that computes with libtorch): as many as free slots and threads allow.
    pub fn grant(&self, numeric: &[bool]) -> Vec<usize> {
        let prefix = &numeric[..numeric.len().min(self.slots - self.running)];
        if self.total < self.slots {
            return vec![1; prefix.len()];
        }
        let share = self.share();
        let heavy = prefix.iter().filter(|n| **n).count();
        let lights = prefix.len() - heavy;
        let mut left = self.total - self.used;
        let spare = left.saturating_sub(heavy * share);
        let (mut out, mut seen) = (Vec::new(), 0);
        for &num in prefix {
            let t = if num {
                share
            } else {
                seen += 1;
                (spare / lights + usize::from(seen <= spare % lights)).max(1)
            };
            if t > left {
                break;
            }
            left -= t;
            out.push(t);
        }
        out
    }

    /// A child started with `threads`.
    pub fn take(&mut self, threads: usize) {
        self.used += threads;
        self.running += 1;
    }

    /// A child with `threads` ended.
    pub fn release(&mut self, threads: usize) {
        self.used -= threads;
        self.running -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_light_instance_gets_every_thread_and_those_that_start_together_share() {
        let b = Budget::new(2, 2);
        assert_eq!(b.grant(&[false]), [2]);
        assert_eq!(b.grant(&[false, false]), [1, 1]);
        assert_eq!(b.grant(&[false; 5]), [1, 1]);
        assert_eq!(Budget::new(5, 2).grant(&[false, false]), [3, 2]);
        assert_eq!(Budget::new(4, 1).grant(&[false, false, false]), [4]);
    }

    #[test]
    fn a_training_gets_the_same_share_however_busy_the_run_is() {
        let mut b = Budget::new(4, 2);
        assert_eq!(b.grant(&[true]), [2], "alone, still its share");
        assert_eq!(b.grant(&[true, true, true]), [2, 2]);
        assert_eq!(b.grant(&[true, false]), [2, 2]);
        b.take(2);
        assert_eq!(b.grant(&[true]), [2]);
        assert_eq!(Budget::new(1, 2).grant(&[true, true]), [1, 1]);
    }

    #[test]
    fn the_threads_in_use_never_exceed_the_total() {
        let mut b = Budget::new(2, 2);
        b.take(2);
        assert!(b.grant(&[false]).is_empty(), "no thread is free");
        assert!(b.grant(&[true]).is_empty(), "no thread is free");
        b.release(2);
        b.take(1);
        assert_eq!(b.grant(&[false, true]), [1]);
        assert_eq!(b.grant(&[true]), [1]);
    }
}
