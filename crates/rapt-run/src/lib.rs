//! Runs from a RON config: what `rapt train` and `rapt eval` do, as a library (and what
//! multi-process training will run on every rank).
//!
//! * [`RunConfig`]: every setting of a run in one documented struct, loaded and validated
//!   by [`config::load`] before anything is written (env id and parameters against the
//!   registry, PPO settings, that the action head fits the env's action space, shaping).
//! * [`start`]: a job from a config file or a saved run, on one process or every rank of
//!   an MPI job, built once by [`prepare`] (envs, learner, shapers, evaluation env) before
//!   a run directory is claimed; [`train`]: the metrics logger, the evaluation and
//!   checkpoint callbacks, [`rapt_ppo::Trainer::learn`] and the final evaluation;
//!   [`random_baseline`] for `policy: Random`; [`train_new`] for a config built in code.
//! * [`evaluate_run`]: a saved run's checkpoint on held-out seeds; [`report::report`]: a
//!   set of runs per task, as the field reports them (held-out success per seed, IQM,
//!   worst seed, time to a success rate, curves).
//!
//! This crate composes the others, so it links both rapier (through the envs) and
//! libtorch (through the learner); the learner and env crates never see each other.
#![warn(missing_docs)]

pub mod config;
mod error;
mod eval;
pub mod models;
pub mod policy;
mod prepare;
pub mod recording;
pub mod report;
pub mod reward_recipe;
pub mod rollout;
mod run;

pub use config::{
    EnvConfig, MAX_BATCH, MAX_NUM_ENVS, MAX_RANKS, PolicyKind, RunConfig, TrainConfig,
};
pub use error::RunError;
pub use eval::{EvalRun, EvalRunOptions, RecordOptions, evaluate_run};
pub use prepare::{Prepared, Role, prepare};
pub use run::{
    BaselineOutcome, RESUME_SETTABLE, StartRequest, Started, TrainOptions, TrainOutcome,
    random_baseline, start, start_new_run, start_run, train, train_new,
};
