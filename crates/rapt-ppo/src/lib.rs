//! PPO learner on libtorch (tch).
//!
//! For now this crate holds the part of the learner that talks to the torch runtime itself:
//! which device to train on ([`DeviceChoice`]), how many threads torch may use next to the
//! environment workers ([`torch_threads_for`], [`configure_torch_threads`]), and what the
//! linked libtorch can do ([`libtorch_info`]).

#![warn(missing_docs)]

mod device;
mod threads;

pub use device::{DeviceChoice, DeviceError, LIBTORCH_VERSION, LibtorchInfo, libtorch_info};
pub use threads::{available_cores, configure_torch_threads, torch_threads_for};
