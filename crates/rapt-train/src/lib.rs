//! Runs from a RON config: what `rapt train` and `rapt eval` do, as a library (and what
//! multi-process training will run on every rank).
//!
//! * [`RunConfig`]: every setting of a run in one documented struct, loaded and validated
//!   by [`config::load`] before anything is written (env id and parameters against the
//!   registry, PPO settings, that the action head fits the env's action space, shaping).
//! * [`start_run`], [`train`]: build the envs from `rapt_envs::registry()`, the learner,
//!   shaping, the metrics logger and the evaluation and checkpoint callbacks, then
//!   [`rapt_ppo::Trainer::learn`]; [`random_baseline`] for `policy: Random`.
//! * [`evaluate_run`]: a saved run's checkpoint on held-out seeds.
//!
//! This crate composes the others, so it links both rapier (through the envs) and
//! libtorch (through the learner); the learner and env crates never see each other.
#![warn(missing_docs)]

pub mod config;
mod error;
mod eval;
pub mod models;
mod run;

pub use config::{
    EnvConfig, MAX_BATCH, MAX_NUM_ENVS, MAX_RANKS, PolicyKind, RunConfig, TrainConfig,
};
pub use error::RunError;
pub use eval::{EvalRun, EvalRunOptions, evaluate_run, make_shaper};
pub use run::{
    RESUME_SETTABLE, TrainOptions, TrainOutcome, claim_for_resume, preflight, random_baseline,
    share_start, start_new_run, start_run, train, train_worker,
};
