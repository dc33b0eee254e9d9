//! Gymnasium semantics in Rust, batched from day one.
//!
//! * [`Space`] describes observations and actions, flattened into `f32` slots.
//! * [`Env`] is one environment writing into caller-owned buffers; [`VecEnv`] is a batch of
//!   them with structure-of-arrays buffers ([`Batch`]) and same-step autoreset: when an
//!   episode ends, `obs` already holds the next episode's first observation and
//!   `final_obs`/`final_info` hold the last step of the one that ended, so truncated
//!   episodes can be bootstrapped.
//! * [`ThreadedVecEnv`] steps sub-environments on long-lived worker threads, each owning a
//!   fixed chunk; results are bit-identical whatever the thread count.
//! * Wrappers ([`TimeLimit`], [`EpisodeStatistics`], [`Checked`]), a [`Registry`] of
//!   versioned ids, and a [`conformance`] checker every registered env must pass.
#![warn(missing_docs)]

mod batch;
pub mod bench;
mod buffers;
pub mod conformance;
mod describe;
mod env;
mod error;
mod info;
mod registry;
mod seeding;
mod space;
mod tally;
mod trace;
mod vector;
mod wrappers;

pub use batch::{Batch, FrameSpec};
pub use buffers::EnvBuffers;
pub use describe::EnvDescription;
pub use env::{Env, StepOut, select_views};
pub use error::EnvError;
pub use info::{EpisodeStats, InfoBatch, InfoLayout, InfoMut, MetricRatio};
pub use registry::{
    EnvId, EnvSpec, MAX_NUM_ENVS, Registry, VecEnvOptions, field_path, parse_params,
};
pub use seeding::{MAX_SEED, Rng, rng_from_seed, seeded_hash, splitmix64, sub_env_seed};
pub use space::{BoxSpace, Space, SpaceError};
pub use tally::{EpisodeSummary, EpisodeTally, ordered_map};
pub use trace::EpisodeTrace;
pub use vector::{ThreadedVecEnv, VecEnv};
pub use wrappers::{Checked, EpisodeStatistics, TimeLimit};
