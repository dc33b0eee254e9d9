//! Data-parallel training across processes: the collective operations a run's ranks use
//! to act as one learner (the DD-PPO / CleanRL `ppo_atari_multigpu.py` scheme).
//!
//! Every rank steps its own vector env and computes gradients on its own rollout; the
//! [`Collective`] averages the gradients of every minibatch before clipping and the Adam
//! step, merges the observation and return statistics at every env step, normalizes
//! advantages over the union of the ranks' minibatches and gathers finished episodes, so
//! that all ranks hold the same parameters and normalize identically. [`Single`] is the
//! one-process case (every operation is the identity); the MPI implementation lives in
//! the `rapt-mpi` crate so that this crate does not link MPI.
//!
//! Collectives are called in the same order on every rank; an error inside one (a dead
//! peer) is fatal to the whole job, which is MPI's default and what a run wants: a rank
//! that goes on alone would train a different policy.

use std::fmt::Debug;
use std::sync::Arc;

/// The collective operations of a data-parallel run (MPI's semantics: every rank calls
/// each operation, in the same order, with buffers of the same length unless stated).
pub trait Collective: Debug + Send + Sync {
    /// This process's rank, 0-based.
    fn rank(&self) -> usize;

    /// Number of ranks.
    fn size(&self) -> usize;

    /// Element-wise sum over all ranks, in place.
    fn sum_f32(&self, data: &mut [f32]);

    /// Element-wise sum over all ranks, in place.
    fn sum_f64(&self, data: &mut [f64]);

    /// Rank 0's `data` into every rank's (all ranks pass the same length).
    fn broadcast_f32(&self, data: &mut [f32]);

    /// Rank 0's `data` into every rank's (all ranks pass the same length).
    fn broadcast_f64(&self, data: &mut [f64]);

    /// Rank 0's bytes into every rank's `data` (which may start with any length).
    fn broadcast_bytes(&self, data: &mut Vec<u8>);

    /// Every rank's `local` (each of any length), concatenated in rank order, on every
    /// rank.
    fn all_gather_f64(&self, local: &[f64]) -> Vec<f64>;

    /// End the whole job now: print `message` naming this rank and make every rank exit
    /// with `code` (MPI_Abort). For a rank that cannot go on while the others wait for it
    /// in a collective.
    fn abort(&self, code: i32, message: &str) -> !;
}

/// One process: rank 0 of 1; every operation leaves its data as it is.
#[derive(Debug, Default, Clone, Copy)]
pub struct Single;

impl Collective for Single {
    fn rank(&self) -> usize {
        0
    }

    fn size(&self) -> usize {
        1
    }

    fn sum_f32(&self, _data: &mut [f32]) {}

    fn sum_f64(&self, _data: &mut [f64]) {}

    fn broadcast_f32(&self, _data: &mut [f32]) {}

    fn broadcast_f64(&self, _data: &mut [f64]) {}

    fn broadcast_bytes(&self, _data: &mut Vec<u8>) {}

    fn all_gather_f64(&self, local: &[f64]) -> Vec<f64> {
        local.to_vec()
    }

    fn abort(&self, code: i32, message: &str) -> ! {
        eprintln!("error: {message}");
        std::process::exit(code)
    }
}

/// A shared handle on the run's collective ([`Single`] unless a launcher set one).
pub type Dist = Arc<dyn Collective>;

/// The one-process collective.
pub fn single() -> Dist {
    Arc::new(Single)
}

/// Whether `dist` spans more than one process.
pub fn is_distributed(dist: &dyn Collective) -> bool {
    dist.size() > 1
}

/// Mean over ranks of each value, in place (f64 sums; one collective).
pub fn mean_over_ranks(dist: &dyn Collective, values: &mut [f64]) {
    if dist.size() > 1 {
        dist.sum_f64(values);
        let n = dist.size() as f64;
        values.iter_mut().for_each(|v| *v /= n);
    }
}

/// Whether any rank passed `true` (one collective).
pub fn any_rank(dist: &dyn Collective, flag: bool) -> bool {
    if dist.size() == 1 {
        return flag;
    }
    let mut v = [f64::from(u8::from(flag))];
    dist.sum_f64(&mut v);
    v[0] > 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_single_process_collective_is_the_identity() {
        let d = Single;
        let mut x = [1.0f32, 2.0];
        d.sum_f32(&mut x);
        d.broadcast_f32(&mut x);
        assert_eq!(x, [1.0, 2.0]);
        let mut y = [3.0f64];
        mean_over_ranks(&d, &mut y);
        assert_eq!(y, [3.0]);
        assert_eq!(d.all_gather_f64(&[1.0, 2.0]), vec![1.0, 2.0]);
        assert!(any_rank(&d, true) && !any_rank(&d, false));
        assert_eq!((d.rank(), d.size()), (0, 1));
    }
}
