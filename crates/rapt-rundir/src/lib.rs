//! Run plumbing shared by every trainer in rapt (PPO runs and reward-model runs alike),
//! without libtorch: what a run leaves on disk and how it is written.
//!
//! * [`RunDir`]: a run directory, claimed by one process at a time ([`lock`]), named
//!   `runs/<name>-<UTC stamp>`, with `config.ron`, `metrics.csv`, [`TENSORBOARD_DIR`] and
//!   `checkpoints/`.
//! * [`write_atomic`] and [`write_dir_atomic`]: the one way a file or a directory of
//!   files is written, so a crash never leaves half of one.
//! * [`CheckpointDir`]: numbered checkpoint directories (`update-000120`, `epoch-0007`),
//!   listed newest first by number, pruned, the newest intact one found past damaged
//!   ones ([`CheckpointDir::load_newest`]), and a checkpoint located from a run or a path
//!   inside it ([`locate_checkpoint`]).
//! * [`integrity`]: SHA-256 digests recorded beside the files a checkpoint or a model
//!   holds, checked on load.
//! * [`Logger`] with [`Sink`]s ([`CsvSink`], [`TensorBoardSink`], [`ProgressSink`]):
//!   a metric is recorded by name once and reaches every sink.
//! * [`plot`]: charts as PNG files ([`plot::Chart`]), drawn in Rust with axes, ticks,
//!   numbers and a legend, for learning curves ([`curves`]: a metric of several runs,
//!   mean and range over seeds) and calibration plots.
#![warn(missing_docs)]

mod checkpoints;
pub mod curves;
mod files;
pub mod integrity;
pub mod lock;
pub mod logger;
pub mod plot;
mod run_dir;
pub mod tensorboard;

pub use checkpoints::{CheckpointDir, CheckpointDirError, locate_checkpoint};
pub use files::{FileError, write_atomic, write_dir_atomic};
pub use logger::{CsvSink, Logger, ProgressSink, Sink, TensorBoardSink, progress_bar};
pub use run_dir::{RunDir, RunDirError, TENSORBOARD_DIR};
