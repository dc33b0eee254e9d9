//! Data-parallel rapt training on MPI: `mpirun -np N rapt train CONFIG` (or `srun` under
//! Slurm) makes N processes train one policy, each stepping its own vector env
//! (`docs/distributed.md`).
//!
//! [`launch`] returns the run's [`rapt_ppo::Collective`]: [`rapt_ppo::Single`] for a
//! process no MPI launcher started, else the MPI world (rsmpi over Open MPI; built with
//! the `mpi` feature). Give it to the learner ([`rapt_ppo::Learner::set_collective`]) and
//! the trainer does the rest: averaged gradients, merged statistics, gathered episodes.
//! Without the `mpi` feature a process started by an MPI launcher is refused with a clear
//! error, rather than training N unrelated copies that overwrite each other's run.
//!
//! Failure policy: MPI's default error handler ends the whole job on a communication
//! error, Open MPI's `mpirun` ends it when a rank dies, and [`Collective::abort`] ends it
//! (naming the rank and the cause) when a rank's training fails; a rank never waits
//! forever for a peer that is gone.

#[cfg(feature = "mpi")]
use rapt_ppo::Collective;
use rapt_ppo::Dist;

/// Environment variables by which MPI launchers tell a process it is one rank of a job:
/// Open MPI's `mpirun`, MPICH's Hydra and Slurm's PMI-2, PMIx (`srun --mpi=pmix`).
pub const LAUNCHER_VARS: [&str; 3] = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"];

/// Why [`launch`] cannot give a collective.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// Started by an MPI launcher, but built without MPI.
    #[error(
        "this process was started by an MPI launcher (`{var}` is set) but this rapt was built \
         without MPI: build it with `make build` (which installs Open MPI), or \
         `cargo build --release --features mpi` with Open MPI installed"
    )]
    NotBuiltWithMpi {
        /// The launcher's variable that was found.
        var: &'static str,
    },
    /// MPI could not be initialized (it was already, in this process).
    #[error("MPI could not be initialized: it was initialized already in this process")]
    AlreadyInitialized,
}

/// The launcher variable set in this process's environment, if any.
pub fn launcher_var() -> Option<&'static str> {
    LAUNCHER_VARS
        .into_iter()
        .find(|v| std::env::var_os(v).is_some())
}

/// This process's rank as its MPI launcher announced it (before MPI is initialized), if
/// one started it: for settings that must be chosen early, e.g. quieter logs off rank 0.
pub fn launcher_rank() -> Option<usize> {
    ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.trim().parse().ok())
}

/// Whether rapt was built with MPI.
pub const fn built_with_mpi() -> bool {
    cfg!(feature = "mpi")
}

/// The collective of this process's run: the MPI world when an MPI launcher started it,
/// else one process ([`rapt_ppo::Single`], without initializing MPI). Call once, early:
/// MPI is finalized when the last handle on the returned collective is dropped.
pub fn launch() -> Result<Dist, LaunchError> {
    let Some(var) = launcher_var() else {
        return Ok(rapt_ppo::dist::single());
    };
    #[cfg(feature = "mpi")]
    {
        let _ = var;
        let world = MpiWorld::init()?;
        tracing::debug!(rank = world.rank(), size = world.size(), "MPI initialized");
        Ok(std::sync::Arc::new(world))
    }
    #[cfg(not(feature = "mpi"))]
    Err(LaunchError::NotBuiltWithMpi { var })
}

#[cfg(feature = "mpi")]
mod world;
#[cfg(feature = "mpi")]
pub use world::MpiWorld;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_no_launcher_started_trains_alone() {
        if launcher_var().is_none() {
            let dist = launch().unwrap();
            assert_eq!((dist.rank(), dist.size()), (0, 1));
        }
    }
}
