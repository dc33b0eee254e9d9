//! PPO learner on libtorch (tch).
//!
//! Which device to train on ([`DeviceChoice`]), how many threads torch may use
//! next to the environment workers ([`torch_threads_for`], [`configure_torch_threads`]),
//! what the linked libtorch can do ([`libtorch_info`]), generalized advantage estimation
//! that bootstraps through truncations ([`compute_gae`]) and running statistics for
//! observation normalization ([`RunningMeanStd`]), the actor-critic
//! ([`ActorCritic`], Gaussian or Beta heads, MLP or CNN encoders) and the PPO losses ([`ppo_losses`]).

#![warn(missing_docs)]

mod adam;
mod checkpoint;
mod config;
mod device;
pub mod dir_lock;
mod gae;
mod layout;
mod learner;
mod loss;
mod policy;
mod reward_scale;
mod running_stats;
pub mod tensorboard;
mod threads;

pub use adam::{AdamConfig, AdamState, FlatAdam};
pub use checkpoint::{
    CHECKPOINT_FORMAT, CheckpointError, Progress, latest_checkpoint, read_progress, seed_update,
};
pub use config::PpoConfig;
pub use device::{DeviceChoice, DeviceError, LIBTORCH_VERSION, LibtorchInfo, libtorch_info};
pub use gae::{GaeInputs, GaeParams, compute_gae};
pub use layout::ObsLayout;
pub use learner::{Learner, LearnerError, Rollout, UpdateStats, explained_variance};
pub use loss::{LossConfig, Losses, ppo_losses};
pub use policy::{
    ActionHead, ActorCritic, Encoder, beta_log_prob_entropy, gaussian_log_prob_entropy,
};
pub use reward_scale::RewardScaler;
pub use running_stats::RunningMeanStd;
pub use threads::{available_cores, configure_torch_threads, torch_threads_for};
