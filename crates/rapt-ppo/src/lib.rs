//! PPO learner on libtorch (tch).
//!
//! So far: which device to train on ([`DeviceChoice`]), how many threads torch may use
//! next to the environment workers ([`torch_threads_for`], [`configure_torch_threads`]),
//! what the linked libtorch can do ([`libtorch_info`]), generalized advantage estimation
//! that bootstraps through truncations ([`compute_gae`]) and running statistics for
//! observation normalization ([`RunningMeanStd`]).

#![warn(missing_docs)]

mod device;
mod gae;
mod running_stats;
mod threads;

pub use device::{DeviceChoice, DeviceError, LIBTORCH_VERSION, LibtorchInfo, libtorch_info};
pub use gae::{GaeInputs, GaeParams, compute_gae};
pub use running_stats::RunningMeanStd;
pub use threads::{available_cores, configure_torch_threads, torch_threads_for};
