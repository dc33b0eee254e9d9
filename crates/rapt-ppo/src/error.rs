//! The errors of training and evaluation.

use std::path::PathBuf;

use rapt_core::EnvError;
use rapt_shaping::ShaperError;

use rapt_rundir::{CheckpointDirError, RunDirError};

use crate::{CheckpointError, LearnerError};

/// Why a training run or an evaluation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The vector env failed (bad action, a worker died, ...).
    #[error(transparent)]
    Env(#[from] EnvError),
    /// Reward shaping failed (a stop while shaping waited is [`TrainError::Stopped`]).
    #[error(transparent)]
    Shaping(ShaperError),
    /// A checkpoint could not be written or read.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The learner could not be built.
    #[error(transparent)]
    Learner(#[from] LearnerError),
    /// The run directory could not be used.
    #[error(transparent)]
    RunDir(#[from] RunDirError),
    /// A checkpoint directory could not be listed, pruned or located in.
    #[error(transparent)]
    CheckpointDir(#[from] CheckpointDirError),
    /// Writing metrics failed.
    #[error("writing metrics: {0}")]
    Log(std::io::Error),
    /// A file operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The env, learner and options do not fit together.
    #[error("{0}")]
    Invalid(String),
    /// The stop flag was set (a signal) before the work finished.
    #[error("stopped before it finished")]
    Stopped,
}

impl From<ShaperError> for TrainError {
    fn from(e: ShaperError) -> Self {
        match e {
            ShaperError::Stopped => Self::Stopped,
            e => Self::Shaping(e),
        }
    }
}
