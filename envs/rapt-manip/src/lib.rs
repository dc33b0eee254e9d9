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

pub use env::{ManipEnv, ROBOT_OBS};
pub use params::{ControlMode, ManipParams, RewardMode};
pub use task::{Evaluation, Scene, Task, approach, move_towards};

use rapt_core::{EnvError, EnvSpec, Registry, parse_params};

fn to_ron<T: serde::Serialize>(value: &T) -> String {
    ron::ser::to_string_pretty(value, ron::ser::PrettyConfig::default())
        .unwrap_or_else(|e| format!("<unprintable: {e}>"))
}

/// Register `Reach-v0`, `Push-v0` and `PickPlace-v0`.
pub fn register(registry: &mut Registry) -> Result<(), EnvError> {
    registry.register(EnvSpec {
        id: "Reach-v0",
        summary: "bring the gripper to a random point in the air (arm + gripper, rapier)",
        max_episode_steps: 50,
        default_params: || to_ron(&ManipParams::default()),
        make: |p| {
            let params = parse_params("Reach-v0", p)?;
            Ok(Box::new(ManipEnv::new(tasks::Reach, params, "Reach-v0")?))
        },
    })?;
    registry.register(EnvSpec {
        id: "Push-v0",
        summary: "push a 5 cm cube to a goal on the table (arm + gripper, rapier)",
        max_episode_steps: 100,
        default_params: || to_ron(&ManipParams::default()),
        make: |p| {
            let params = parse_params("Push-v0", p)?;
            Ok(Box::new(ManipEnv::new(
                tasks::Push::default(),
                params,
                "Push-v0",
            )?))
        },
    })?;
    registry.register(EnvSpec {
        id: "PickPlace-v0",
        summary: "grasp a 5 cm cube and place it at a goal, possibly in the air (rapier)",
        max_episode_steps: 100,
        default_params: || to_ron(&ManipParams::default()),
        make: |p| {
            let params = parse_params("PickPlace-v0", p)?;
            Ok(Box::new(ManipEnv::new(
                tasks::PickPlace::default(),
                params,
                "PickPlace-v0",
            )?))
        },
    })
}
