//! Manipulation environments on rapier: a 6-joint arm with a parallel gripper
//! (`assets/robots/rapt_arm.urdf`) reaching, pushing, and picking and placing a cube.
//!
//! Every task defines ordered stages and a step-aware progress Φ ∈ [0, 1] (completed
//! stages + progress within the current one, over the number of stages), reported as the
//! `phi` metric and through [`rapt_core::Env::progress`], and a privileged scripted expert
//! ([`rapt_core::Env::expert_action`]). Cards: `docs/envs/`.
#![warn(missing_docs)]

mod env;
mod params;
pub mod robot;
mod task;
pub mod tasks;
pub mod views;

pub use env::{ManipEnv, ROBOT_OBS};
pub use params::{CameraObs, ControlMode, ManipParams, RewardMode};
pub use task::{Task, TaskEvaluation, TaskScene, approach, move_towards};

use rapt_core::{Env, EnvError, EnvSpec, Registry, parse_params};

fn to_ron<T: serde::Serialize>(value: &T) -> String {
    ron::ser::to_string_pretty(value, ron::ser::PrettyConfig::default())
        .unwrap_or_else(|e| format!("<unprintable: {e}>"))
}

/// Register `Reach-v0`, `Push-v0`, `Push-v1`, `Push-v2`, `PickPlace-v0`, `PickPlace-v1`,
/// `PickPlace-v2`, `Insert-v0` and `Insert-v1`.
pub fn register(registry: &mut Registry) -> Result<(), EnvError> {
    registry.register(spec::<tasks::Reach>())?;
    registry.register(spec::<tasks::Push<0>>())?;
    registry.register(spec::<tasks::Push<1>>())?;
    registry.register(spec::<tasks::Push<2>>())?;
    registry.register(spec::<tasks::PickPlace<0>>())?;
    registry.register(spec::<tasks::PickPlace<1>>())?;
    registry.register(spec::<tasks::PickPlace<2>>())?;
    registry.register(spec::<tasks::Insert<0>>())?;
    registry.register(spec::<tasks::Insert<1>>())
}

fn spec<T: Task + Default + 'static>() -> EnvSpec {
    EnvSpec {
        id: T::ID,
        summary: T::SUMMARY,
        max_episode_steps: T::MAX_EPISODE_STEPS,
        default_params: || to_ron(&ManipParams::default()),
        make: make::<T>,
    }
}

fn make<T: Task + Default + 'static>(params: &str) -> Result<Box<dyn Env>, EnvError> {
    let params = parse_params(T::ID, params)?;
    Ok(Box::new(ManipEnv::new(T::default(), params, T::ID)?))
}
