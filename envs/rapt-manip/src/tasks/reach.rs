use rand::Rng as _;
use rapt_core::Rng;
use rapt_sim::rapier3d::prelude::*;

use crate::task::{Task, TaskEvaluation, TaskScene, approach, move_towards};

/// Success distance for `Reach-v0`, m (Fetch's 5 cm).
pub const REACH_THRESHOLD: f32 = 0.05;

/// `Reach-v0`: bring the gripper to a random point in the air.
///
/// * **Task**: move the tool centre point within 5 cm of the goal.
/// * **Observation**: robot (7) + goal (3) + goal − TCP (3) = 13 slots.
/// * **Randomization**: goal uniform in x, y ∈ [-0.15, 0.15] m, z ∈ [0.05, 0.30] m.
/// * **Success**: ‖TCP − goal‖ < 5 cm.
/// * **Stages**: `reach`; progress = approach from 45 cm to 5 cm.
/// * **Reward** (dense): `distance` = −‖TCP − goal‖ (m), `success` = +1 on success.
#[derive(Debug, Default)]
pub struct Reach;

impl Task for Reach {
    const ID: &'static str = "Reach-v0";
    const SUMMARY: &'static str =
        "bring the gripper to a random point in the air (arm + gripper, rapier)";
    const PANDA: Option<(&'static str, &'static str)> = Some((
        "PandaReach-v0",
        "Reach-v0 on the Franka Panda: bring the gripper to a random point in the air",
    ));
    const TASK: &'static str = "Move the gripper to the green target point.";
    const MAX_EPISODE_STEPS: u32 = 50;
    const SOLVER_ITERATIONS: usize = 4;

    fn stages(&self) -> &'static [&'static str] {
        &["reach"]
    }

    fn reward_terms(&self) -> &'static [&'static str] {
        &["distance", "success"]
    }

    fn metric_names(&self) -> &'static [&'static str] {
        &["tcp_to_goal"]
    }

    fn obs_dim(&self) -> usize {
        6
    }

    fn build(&self, _world: &mut PhysicsWorld) -> Vec<RigidBodyHandle> {
        Vec::new()
    }

    fn initialize_episode(&mut self, scene: &mut TaskScene, rng: &mut Rng) {
        let half = 0.15 + scene.spread;
        scene.goal = Vector::new(
            rng.random_range(-half..=half),
            rng.random_range(-half..=half),
            rng.random_range(0.05..=0.30),
        );
    }

    fn observe(&self, scene: &TaskScene, obs: &mut [f32]) {
        let tcp = scene.tcp();
        let (g, d) = (scene.goal, scene.goal - tcp);
        obs[..6].copy_from_slice(&[g.x, g.y, g.z, d.x, d.y, d.z]);
    }

    fn evaluate(&self, scene: &TaskScene) -> TaskEvaluation {
        let d = (scene.goal - scene.tcp()).length();
        let success = d < REACH_THRESHOLD;
        TaskEvaluation {
            success,
            stage: usize::from(success),
            stage_progress: if success {
                0.0
            } else {
                approach(d, REACH_THRESHOLD, 0.45)
            },
        }
    }

    fn dense_reward(&self, scene: &TaskScene, eval: &TaskEvaluation, terms: &mut [f32]) -> f32 {
        let d = (scene.goal - scene.tcp()).length();
        terms[0] = -d;
        terms[1] = f32::from(u8::from(eval.success));
        terms[0] + terms[1]
    }

    fn metrics(&self, scene: &TaskScene, out: &mut [f32]) {
        out[0] = (scene.goal - scene.tcp()).length();
    }

    fn expert(&mut self, scene: &TaskScene, action: &mut [f32; 4]) {
        let tcp = scene.tcp();
        let [x, y, z] = move_towards(tcp, scene.goal, 1.0);
        *action = [x, y, z, 1.0];
    }
}
