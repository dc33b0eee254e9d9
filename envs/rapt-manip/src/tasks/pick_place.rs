use rand::Rng as _;
use rapt_core::Rng;
use rapt_sim::rapier3d::prelude::*;

use super::{CUBE_HALF, add_cube, first_object as cube, flat, object_obs, uniform_xy};
use crate::robot;
use crate::task::{Task, TaskEvaluation, TaskScene, approach, move_towards};

/// Success distance for `PickPlace-v0`, m (Fetch's 5 cm).
pub const PLACE_THRESHOLD: f32 = 0.05;
/// TCP within this distance of the cube centre: the grasp stage has begun, m.
const NEAR: f32 = 0.03;
/// Largest gripper opening that still counts as holding the cube (cube is 5 cm), m.
const GRASP_WIDTH: f32 = 0.062;

/// `PickPlace-v0`: grasp a cube and bring it to a goal that may be in the air.
///
/// * **Task**: the cube's centre within 5 cm of the goal.
/// * **Observation**: robot (7) + object (22) = 29 slots.
/// * **Randomization**: cube uniform in x, y ∈ [-0.15, 0.15] m on the table; goal uniform
///   in x, y ∈ [-0.15, 0.15] m, on the table half the time (Fetch's convention), otherwise
///   z ∈ [0.025, 0.25] m.
/// * **Success**: ‖cube − goal‖ < 5 cm.
/// * **Stages**: `reach` (TCP to the cube; progress from 45 cm to 3 cm) → `grasp` (cube
///   between closed fingers; progress = closing) → `place` (cube to goal; progress from
///   35 cm to 5 cm).
/// * **Reward** (dense): `reach` = −0.5‖TCP − cube‖, `grasp` = +0.25 while grasped,
///   `place` = −‖cube − goal‖, `success` = +1.
#[derive(Debug, Default)]
pub struct PickPlace {
    phase: Phase,
    wait: u32,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum Phase {
    #[default]
    Above,
    Descend,
    Close,
    Carry,
}

/// Whether the cube sits between the fingers with the gripper closed on it.
fn grasped(scene: &TaskScene) -> bool {
    let (c, tcp) = (cube(scene), robot::tcp(&scene.world, &scene.arm));
    let width = robot::gripper_width(&scene.world, &scene.arm);
    (tcp - c).length() < NEAR && width < GRASP_WIDTH && width > 2.0 * CUBE_HALF - 0.02
}

impl Task for PickPlace {
    const ID: &'static str = "PickPlace-v0";
    const SUMMARY: &'static str =
        "grasp a 5 cm cube and place it at a goal, possibly in the air (rapier)";
    const TASK: &'static str = "Pick up the cube and place it at the green target.";
    const MAX_EPISODE_STEPS: u32 = 100;
    // A held cube creeps along the pads with 4 iterations (~1 cm in 2 s); 6 hold it.
    const SOLVER_ITERATIONS: usize = 6;

    fn stages(&self) -> &'static [&'static str] {
        &["reach", "grasp", "place"]
    }

    fn reward_terms(&self) -> &'static [&'static str] {
        &["reach", "grasp", "place", "success"]
    }

    fn metric_names(&self) -> &'static [&'static str] {
        &[
            "object_to_goal",
            "tcp_to_object",
            "grasped",
            "object_height",
        ]
    }

    fn obs_dim(&self) -> usize {
        22
    }

    fn build(&self, world: &mut PhysicsWorld) -> Vec<RigidBodyHandle> {
        vec![add_cube(world)]
    }

    fn initialize_episode(&mut self, scene: &mut TaskScene, rng: &mut Rng) {
        let start = uniform_xy(rng, 0.15, CUBE_HALF);
        let in_air = rng.random_bool(0.5);
        let mut goal = uniform_xy(rng, 0.15, CUBE_HALF);
        while (goal - start).length() < 0.1 {
            goal = uniform_xy(rng, 0.15, CUBE_HALF);
        }
        if in_air {
            goal.z = rng.random_range(CUBE_HALF..=0.25);
        }
        scene.world.bodies[scene.objects[0]].set_translation(start, true);
        scene.goal = goal;
        self.phase = Phase::Above;
        self.wait = 0;
    }

    fn observe(&self, scene: &TaskScene, obs: &mut [f32]) {
        let tcp = robot::tcp(&scene.world, &scene.arm);
        object_obs(&scene.world, scene.objects[0], tcp, scene.goal, obs);
    }

    fn evaluate(&self, scene: &TaskScene) -> TaskEvaluation {
        let (c, tcp) = (cube(scene), robot::tcp(&scene.world, &scene.arm));
        let to_goal = (scene.goal - c).length();
        let success = to_goal < PLACE_THRESHOLD;
        let width = robot::gripper_width(&scene.world, &scene.arm);
        let near = (tcp - c).length() < NEAR;
        let (stage, stage_progress) = if success {
            (3, 0.0)
        } else if grasped(scene) {
            (2, approach(to_goal, PLACE_THRESHOLD, 0.35))
        } else if near {
            // Closing: from fully open (9 cm) to touching the cube (5 cm).
            (1, approach(width, GRASP_WIDTH, 2.0 * robot::FINGER_OPEN))
        } else {
            (0, approach((tcp - c).length(), NEAR, 0.45))
        };
        TaskEvaluation {
            success,
            stage,
            stage_progress,
        }
    }

    fn dense_reward(&self, scene: &TaskScene, eval: &TaskEvaluation, terms: &mut [f32]) -> f32 {
        let (c, tcp) = (cube(scene), robot::tcp(&scene.world, &scene.arm));
        terms[0] = -0.5 * (tcp - c).length();
        terms[1] = if grasped(scene) { 0.25 } else { 0.0 };
        terms[2] = -(scene.goal - c).length();
        terms[3] = f32::from(u8::from(eval.success));
        terms.iter().sum()
    }

    fn metrics(&self, scene: &TaskScene, out: &mut [f32]) {
        let (c, tcp) = (cube(scene), robot::tcp(&scene.world, &scene.arm));
        out[0] = (scene.goal - c).length();
        out[1] = (tcp - c).length();
        out[2] = f32::from(u8::from(grasped(scene)));
        out[3] = c.z - CUBE_HALF;
    }

    fn expert(&mut self, scene: &TaskScene, action: &mut [f32; 4]) {
        let (c, tcp) = (cube(scene), robot::tcp(&scene.world, &scene.arm));
        let (target, grip) = match self.phase {
            Phase::Above => {
                let above = Vector::new(c.x, c.y, c.z + 0.08);
                if flat(tcp - c) < 0.008 {
                    self.phase = Phase::Descend;
                }
                (above, 1.0)
            }
            Phase::Descend => {
                if (tcp - c).length() < 0.008 {
                    self.phase = Phase::Close;
                }
                (c, 1.0)
            }
            Phase::Close => {
                self.wait += 1;
                if self.wait >= 6 {
                    self.phase = Phase::Carry;
                }
                (c, -1.0)
            }
            Phase::Carry => {
                if !grasped(scene) && (tcp - c).length() > 0.03 {
                    self.phase = Phase::Above;
                    self.wait = 0;
                }
                // Bring the cube's centre, not the TCP, to the goal.
                (scene.goal + (tcp - c), -1.0)
            }
        };
        let [x, y, z] = move_towards(tcp, target, 1.0);
        *action = [x, y, z, grip];
    }
}
