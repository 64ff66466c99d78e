//! The CPU threads of a local run, shared among the children as they start: a child gets the
//! threads that are free when it starts, divided among the children that can start at that
//! moment, so a stage that runs alone (the source training every study waits for, the report)
//! has every core, and `-j N` instances that start together share them. The threads in use
//! never exceed the total: a ready instance waits for a thread as it waits for a slot. Only
//! when `-j` asks for more instances than there are threads does each child get one thread,
//! as asked. A child keeps its threads until it ends (libtorch's pool is fixed at start).

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

    /// The threads of each child that may start now when `ready` instances are ready: as many
    /// children as free slots (and free threads) allow, in order.
    pub fn grant(&self, ready: usize) -> Vec<usize> {
        let n = ready.min(self.slots - self.running);
        if self.total < self.slots {
            return vec![1; n];
        }
        let free = self.total - self.used;
        let n = n.min(free);
        if n == 0 {
            return Vec::new();
        }
        (0..n)
            .map(|k| free / n + usize::from(k < free % n))
            .collect()
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
    fn a_lone_instance_gets_every_thread_and_those_that_start_together_share() {
        let b = Budget::new(2, 2);
        assert_eq!(b.grant(1), [2]);
        assert_eq!(b.grant(2), [1, 1]);
        assert_eq!(b.grant(5), [1, 1]);
        assert_eq!(Budget::new(5, 2).grant(2), [3, 2]);
        assert_eq!(Budget::new(4, 1).grant(3), [4]);
    }

    #[test]
    fn the_threads_in_use_never_exceed_the_total() {
        let mut b = Budget::new(2, 2);
        b.take(2);
        assert!(b.grant(1).is_empty(), "no thread is free");
        b.release(2);
        b.take(1);
        assert_eq!(b.grant(3), [1]);
        b.take(1);
        assert!(b.grant(1).is_empty());
    }

    #[test]
    fn more_jobs_than_threads_give_one_thread_each() {
        let mut b = Budget::new(1, 3);
        assert_eq!(b.grant(2), [1, 1]);
        b.take(1);
        b.take(1);
        assert_eq!(b.grant(2), [1]);
    }
}
