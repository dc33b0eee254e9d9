//! Sizing torch's thread pools next to the environment workers.
//!
//! Torch threads and environment worker threads compete for the same cores. When together
//! they outnumber the cores, throughput drops 2–6× (measured with PPO updates on the
//! project's 2-core machines), so torch gets the cores the workers leave free.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::thread;

/// Cores this process may use (respects CPU affinity and cgroup quotas); 1 if unknown.
pub fn available_cores() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

/// Torch intra-op threads for a learner sharing `cores` cores with `env_workers` threads that
/// step environments: the cores the workers leave free, and at least 1.
///
/// `env_workers = 0` means the environments step on the learner's own thread, so torch may use
/// every core. A `cores` of 0 is treated as 1.
///
/// ```
/// use rapt_ppo::torch_threads_for;
/// assert_eq!(torch_threads_for(0, 8), 8);
/// assert_eq!(torch_threads_for(2, 8), 6);
/// assert_eq!(torch_threads_for(2, 2), 1); // never 0
/// ```
pub fn torch_threads_for(env_workers: usize, cores: usize) -> usize {
    cores.max(1).saturating_sub(env_workers).max(1)
}

/// Sets torch's intra-op thread count to `n` (at least 1) and, the first time it is called in
/// the process, its inter-op thread count too.
///
/// Call it at start-up, before spawning threads that run torch ops: each thread picks up the
/// count when it first uses torch. The intra-op count can be changed again later. libtorch
/// accepts the inter-op count only once, before any inter-op work has started; later calls
/// leave it as it is instead of failing (eager-mode training barely uses that pool).
pub fn configure_torch_threads(n: usize) {
    let n = i32::try_from(n.max(1)).unwrap_or(i32::MAX);
    tch::set_num_threads(n);

    static INTEROP: Once = Once::new();
    INTEROP.call_once(|| {
        // tch panics when libtorch rejects the call (inter-op work already started elsewhere).
        // Nothing is left half-done in that case, so carry on with the current pool.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| tch::set_num_interop_threads(n)));
    });
}

/// Torch intra-op threads for the two phases of a PPO update cycle, which
/// [`crate::Trainer::with_torch_threads`] switches between.
///
/// The env workers step only while the rollout is collected, in lock-step with the
/// learner's forward passes: then torch gets the cores they leave free (torch's
/// threads spin for a while after each parallel region and slow the workers down when
/// they share cores — Push-v0 on 2 env threads collected its rollouts 1.7× slower with 2
/// torch threads than with 1). During the update the workers wait, and torch gets every
/// core (Drive-v0's CNN update: 13 s instead of 25 s with 2 threads instead of 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TorchThreads {
    /// While collecting rollouts (acting beside the env workers).
    pub rollout: usize,
    /// While updating the networks.
    pub update: usize,
}

impl TorchThreads {
    /// For a learner on `cores` cores whose vector env steps on `env_threads` threads, the
    /// caller's included: the rollout gets the cores the env threads leave free
    /// ([`torch_threads_for`], at least 1), the update all of them.
    ///
    /// ```
    /// use rapt_ppo::TorchThreads;
    /// assert_eq!(TorchThreads::beside_envs(2, 2), TorchThreads { rollout: 1, update: 2 });
    /// assert_eq!(TorchThreads::beside_envs(2, 8), TorchThreads { rollout: 6, update: 8 });
    /// ```
    pub fn beside_envs(env_threads: usize, cores: usize) -> Self {
        Self {
            rollout: torch_threads_for(env_threads, cores),
            update: cores.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_workers_take_their_cores_first() {
        assert_eq!(torch_threads_for(0, 2), 2);
        assert_eq!(torch_threads_for(1, 2), 1);
        assert_eq!(torch_threads_for(1, 16), 15);
        assert_eq!(torch_threads_for(4, 16), 12);
    }

    #[test]
    fn torch_keeps_at_least_one_thread() {
        assert_eq!(torch_threads_for(2, 2), 1);
        assert_eq!(torch_threads_for(64, 2), 1);
        assert_eq!(torch_threads_for(0, 0), 1);
        assert_eq!(torch_threads_for(usize::MAX, 0), 1);
    }

    #[test]
    fn available_cores_is_positive() {
        assert!(available_cores() >= 1);
    }

    #[test]
    fn configure_sets_intra_op_threads_and_can_be_repeated() {
        configure_torch_threads(1);
        assert_eq!(tch::get_num_threads(), 1);
        // A second call must not trip over libtorch's once-only inter-op setting.
        configure_torch_threads(0);
        assert_eq!(tch::get_num_threads(), 1);
        configure_torch_threads(2);
        assert_eq!(tch::get_num_threads(), 2);
    }
}
