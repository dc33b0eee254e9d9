//! The MPI world communicator as a [`Collective`] (rsmpi, Open MPI).

use mpi::Count;
use mpi::collective::SystemOperation;
use mpi::datatype::PartitionMut;
use mpi::environment::Universe;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::{CommunicatorCollectives, Root};

use rapt_ppo::Collective;

use crate::LaunchError;

/// All processes of the MPI job (`MPI_COMM_WORLD`). Holding it keeps MPI initialized;
/// dropping the last handle finalizes it.
pub struct MpiWorld {
    // Finalizes MPI on drop. The communicator is fetched per call (a handle copy): rsmpi's
    // communicators are not `Send`, while a collective is shared with the learner.
    _universe: Universe,
    rank: usize,
    size: usize,
}

impl std::fmt::Debug for MpiWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MpiWorld")
            .field("rank", &self.rank)
            .field("size", &self.size)
            .finish()
    }
}

impl MpiWorld {
    /// Initialize MPI (single-threaded use: only the thread that trains calls it).
    pub fn init() -> Result<Self, LaunchError> {
        let universe = mpi::initialize().ok_or(LaunchError::AlreadyInitialized)?;
        let world = universe.world();
        Ok(Self {
            rank: world.rank() as usize,
            size: world.size() as usize,
            _universe: universe,
        })
    }

    fn world(&self) -> SimpleCommunicator {
        SimpleCommunicator::world()
    }
}

impl Collective for MpiWorld {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn sum_f32(&self, data: &mut [f32]) {
        // rsmpi has no in-place all-reduce: send a copy.
        let send = data.to_vec();
        self.world()
            .all_reduce_into(&send[..], data, SystemOperation::sum());
    }

    fn sum_f64(&self, data: &mut [f64]) {
        let send = data.to_vec();
        self.world()
            .all_reduce_into(&send[..], data, SystemOperation::sum());
    }

    fn broadcast_f32(&self, data: &mut [f32]) {
        self.world().process_at_rank(0).broadcast_into(data);
    }

    fn broadcast_f64(&self, data: &mut [f64]) {
        self.world().process_at_rank(0).broadcast_into(data);
    }

    fn broadcast_bytes(&self, data: &mut Vec<u8>) {
        let root = self.world();
        let root = root.process_at_rank(0);
        let mut len = data.len() as u64;
        root.broadcast_into(&mut len);
        data.resize(len as usize, 0);
        root.broadcast_into(&mut data[..]);
    }

    fn all_gather_f64(&self, local: &[f64]) -> Vec<f64> {
        let world = self.world();
        let mut counts: Vec<Count> = vec![0; self.size];
        world.all_gather_into(&(local.len() as Count), &mut counts[..]);
        let displs: Vec<Count> = counts
            .iter()
            .scan(0, |at, &c| {
                let d = *at;
                *at += c;
                Some(d)
            })
            .collect();
        let total: Count = counts.iter().sum();
        let mut out = vec![0.0f64; total as usize];
        let mut parts = PartitionMut::new(&mut out[..], &counts[..], &displs[..]);
        world.all_gather_varcount_into(local, &mut parts);
        out
    }

    fn abort(&self, code: i32, message: &str) -> ! {
        eprintln!(
            "error: rank {} of {}: {message} (ending the MPI job)",
            self.rank, self.size
        );
        self.world().abort(code)
    }
}
