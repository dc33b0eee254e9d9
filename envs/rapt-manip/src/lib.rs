//! Manipulation environments on rapier: an arm with a parallel gripper — rapt's 6-joint
//! arm (`assets/robots/rapt_arm.urdf`) or the Franka Emika Panda
//! (`assets/robots/franka_fer/`, the `Panda*` ids) — reaching, pushing, picking and
//! placing a cube, and inserting a peg.
//!
//! Every task defines ordered stages and a step-aware progress Φ ∈ [0, 1] (completed
//! stages + progress within the current one, over the number of stages), reported as the
//! `phi` metric and through [`rapt_core::Env::progress`], and a privileged scripted expert
//! ([`rapt_core::Env::expert_action`]). Cards: `docs/envs/`.
#![warn(missing_docs)]

mod env;
mod params;
pub mod randomize;
pub mod robot;
mod task;
pub mod tasks;
pub mod views;

pub use env::{ManipEnv, ROBOT_OBS};
pub use params::{CameraObs, ControlMode, ManipParams, RewardMode};
pub use randomize::{EpisodeDraws, Randomization};
pub use robot::{Robot, RobotKind, WristCamera};
pub use task::{Task, TaskEvaluation, TaskScene, approach, move_towards};

use rapt_core::{Env, EnvError, EnvSpec, Registry, parse_params};

fn to_ron<T: serde::Serialize>(value: &T) -> String {
    ron::ser::to_string_pretty(value, ron::ser::PrettyConfig::default())
        .unwrap_or_else(|e| format!("<unprintable: {e}>"))
}

/// Register `Reach-v0`, `Push-v0`, `Push-v1`, `Push-v2`, `PickPlace-v0`, `PickPlace-v1`,
/// `PickPlace-v2`, `Insert-v0`, `Insert-v1` and `Insert-v2` (on the RaptArm), and `PandaReach-v0`,
/// `PandaPush-v0`, `PandaPickPlace-v0` and `PandaInsert-v0` (on the Franka Panda: the newest
/// version of each task when the Panda came, `Insert-v1` for `PandaInsert-v0`).
pub fn register(registry: &mut Registry) -> Result<(), EnvError> {
    registry.register(spec::<tasks::Reach, false>())?;
    registry.register(spec::<tasks::Push<0>, false>())?;
    registry.register(spec::<tasks::Push<1>, false>())?;
    registry.register(spec::<tasks::Push<2>, false>())?;
    registry.register(spec::<tasks::PickPlace<0>, false>())?;
    registry.register(spec::<tasks::PickPlace<1>, false>())?;
    registry.register(spec::<tasks::PickPlace<2>, false>())?;
    registry.register(spec::<tasks::Insert<0>, false>())?;
    registry.register(spec::<tasks::Insert<1>, false>())?;
    registry.register(spec::<tasks::Insert<2>, false>())?;
    registry.register(spec::<tasks::Reach, true>())?;
    registry.register(spec::<tasks::Push<2>, true>())?;
    registry.register(spec::<tasks::PickPlace<2>, true>())?;
    registry.register(spec::<tasks::Insert<1>, true>())
}

/// The id and summary of `T` on the RaptArm (`PANDA` false) or on the Panda.
fn id_and_summary<T: Task, const PANDA: bool>() -> (&'static str, &'static str) {
    match (PANDA, T::PANDA) {
        (false, _) => (T::ID, T::SUMMARY),
        (true, Some(panda)) => panda,
        (true, None) => unreachable!("{} has no Panda id", T::ID),
    }
}

/// The robot an id runs when its params leave `robot` unset.
fn robot_of<const PANDA: bool>() -> RobotKind {
    if PANDA {
        RobotKind::Panda
    } else {
        RobotKind::RaptArm
    }
}

fn spec<T: Task + Default + 'static, const PANDA: bool>() -> EnvSpec {
    let (id, summary) = id_and_summary::<T, PANDA>();
    EnvSpec {
        id,
        summary,
        max_episode_steps: T::MAX_EPISODE_STEPS,
        default_params: || {
            to_ron(&ManipParams {
                robot: Some(robot_of::<PANDA>()),
                ..ManipParams::default()
            })
        },
        make: make::<T, PANDA>,
    }
}

fn make<T: Task + Default + 'static, const PANDA: bool>(
    params: &str,
) -> Result<Box<dyn Env>, EnvError> {
    let (id, _) = id_and_summary::<T, PANDA>();
    let mut params: ManipParams = parse_params(id, params)?;
    let robot = robot_of::<PANDA>();
    match params.robot {
        None => params.robot = Some(robot),
        Some(other) if PANDA && other != robot => {
            return Err(EnvError::InvalidParams {
                id: id.to_string(),
                message: format!(
                    "robot: {other:?}: {id} is {} on the Panda; for another robot use {} with `robot: {other:?}`",
                    T::ID,
                    T::ID
                ),
            });
        }
        Some(_) => {}
    }
    Ok(Box::new(ManipEnv::new(T::default(), params, id)?))
}
