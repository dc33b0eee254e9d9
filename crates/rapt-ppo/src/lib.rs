//! PPO on libtorch (tch), as a library: train a policy on any [`rapt_core::VecEnv`] with
//! [`Trainer::learn`], evaluate it with [`evaluate_policy`].
//!
//! * The run loop ([`Trainer`]): rollouts into a [`RolloutBuffer`] that owns the
//!   bootstrap through truncations, reward shaping ([`rapt_shaping::Shaper`]), PPO updates,
//!   one metrics row per update through a [`rapt_rundir::Logger`] and its sinks (CSV, TensorBoard,
//!   progress bar), and [`Callback`]s for periodic evaluation ([`EvalCallback`]),
//!   checkpoints ([`CheckpointCallback`]) and early stopping ([`StopOnSuccess`]).
//! * The learner ([`Learner`]): the actor-critic ([`ActorCritic`]: Gaussian, Beta or
//!   categorical heads, MLP or CNN encoders), the PPO losses ([`ppo_losses`]), GAE
//!   ([`compute_gae`]), observation and reward normalization, a saveable Adam
//!   ([`FlatAdam`]), checkpoints in safetensors.
//! * A saved run continued ([`resume_run`]) or its policy exported ([`export_policy`]);
//!   run directories, checkpoint directories and the metrics logger are `rapt_rundir`'s.
//! * Device choice ([`DeviceChoice`]), torch thread sizing ([`torch_threads_for`],
//!   [`TorchThreads`]).
//! * Data-parallel training ([`dist`]): a [`Collective`] ([`Single`], or MPI from the
//!   `rapt-mpi` crate) given to the learner and trainer makes N processes train one policy.
//!
//! Every implementation detail, with its reason and reference: `docs/ppo.md`.

#![warn(missing_docs)]

mod action;
mod adam;
mod alloc;
mod baseline;
pub mod bench;
mod buffer;
mod callbacks;
mod checkpoint;
mod config;
mod device;
pub mod dist;
mod episode;
mod error;
mod evaluate;
mod gae;
mod layout;
mod learn;
mod learner;
mod loss;
mod policy;
mod reward_scale;
mod running_stats;
mod saved_run;
mod storage;
mod threads;

pub use action::ActionSpace;
pub use adam::{AdamConfig, AdamState, AdamStateError, FlatAdam};
pub use alloc::{MALLOC_TUNING_VAR, MallocTuning, keep_freed_memory};
pub use baseline::{BaselineSummary, random_baseline};
pub use buffer::{RolloutBuffer, StepRecord};
pub use callbacks::{CheckpointCallback, EvalCallback, StopOnSuccess};
pub use checkpoint::{
    CHECKPOINT_FORMAT, CheckpointError, Progress, is_policy_only, read_progress, seed_update,
};
pub use config::{MAX_COEF, MAX_LAYERS, MAX_NUM_STEPS, MAX_UPDATE_EPOCHS, MAX_WIDTH, PpoConfig};
pub use device::{DeviceChoice, DeviceError, LIBTORCH_VERSION, LibtorchInfo, libtorch_info};
pub use dist::{Collective, Dist, Single};
pub use episode::{Actor, EpisodeState, run_episode};
pub use error::TrainError;
pub use evaluate::{
    EVAL_SEED_OFFSET, EpisodeRecord, EvalOptions, EvalStep, Evaluation, evaluate_policy,
    evaluate_policy_observed, wilson_interval,
};
pub use gae::{GaeInputs, GaeParams, compute_gae};
pub use layout::ObsLayout;
pub use learn::{
    Callback, Control, EpisodeWindow, LearnSummary, Trainer, UpdateContext, num_updates,
};
pub use learner::{Learner, LearnerError, UpdateStats, explained_variance};
pub use loss::{LossConfig, Losses, ppo_losses};
pub use policy::{
    ActionHead, ActorCritic, Encoder, beta_log_prob_entropy, categorical_log_prob_entropy,
    gaussian_log_prob_entropy,
};
pub use reward_scale::RewardScaler;
pub use running_stats::{Moments, RunningMeanStd};
pub use saved_run::{export_policy, resume_run};
pub use storage::{ImageStorage, ObsStorage};
pub use threads::{TorchThreads, available_cores, configure_torch_threads, torch_threads_for};
