//! Why a run could not start, go on or be evaluated.

/// A run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The config (or its saved copy) is invalid.
    #[error(transparent)]
    Config(#[from] rapt_config::ConfigError),
    /// The envs could not be built.
    #[error(transparent)]
    Env(#[from] rapt_core::EnvError),
    /// Training or evaluation failed.
    #[error(transparent)]
    Train(#[from] rapt_ppo::TrainError),
    /// Shaping could not be set up.
    #[error(transparent)]
    Shaping(#[from] rapt_shaping::ShaperError),
    /// The device is not available.
    #[error(transparent)]
    Device(#[from] rapt_ppo::DeviceError),
    /// A checkpoint could not be read.
    #[error(transparent)]
    Checkpoint(#[from] rapt_ppo::CheckpointError),
    /// The run directory could not be used.
    #[error(transparent)]
    RunDir(#[from] rapt_rundir::RunDirError),
    /// No checkpoint where one was expected, or the checkpoint directory failed.
    #[error(transparent)]
    CheckpointDir(#[from] rapt_rundir::CheckpointDirError),
    /// A file could not be opened or written.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Something about the run does not fit (the message says what).
    #[error("{0}")]
    Invalid(String),
    /// A run's metrics could not be read (or a chart drawn) for a report.
    #[error(transparent)]
    Curves(#[from] rapt_rundir::curves::CurveError),
    /// A chart could not be drawn or written.
    #[error(transparent)]
    Plot(#[from] rapt_rundir::plot::PlotError),
}
