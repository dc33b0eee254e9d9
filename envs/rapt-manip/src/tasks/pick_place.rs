use rand::Rng as _;
use rapt_core::Rng;
use rapt_sim::rapier3d::prelude::*;

use super::{CUBE_HALF, add_cube, first_object as cube, flat, object_obs, uniform_xy};
use crate::task::{Task, TaskEvaluation, TaskScene, approach, move_towards};

/// Success distance for `PickPlace-v0`, m (Fetch's 5 cm).
pub const PLACE_THRESHOLD: f32 = 0.05;
/// TCP within this distance of the cube centre: the grasp stage has begun, m.
const NEAR: f32 = 0.03;
/// Largest gripper opening that still counts as holding the cube (cube is 5 cm), m.
const GRASP_WIDTH: f32 = 0.062;
/// Normal force each pad must press the cube with for `PickPlace-v2` to count a grasp, N:
/// the 0.1 kg cube needs 0.49 N per pad to be lifted with friction 1 on two pads; 0.6 N
/// leaves a margin. (A gripper commanded to 0.05–0.3 closes to within 6.2 cm of the cube
/// while pressing it with 0–0.45 N: v1 called that a grasp, and the cube cannot be lifted.)
pub const GRASP_FORCE: f32 = 0.6;

/// `PickPlace-v2`: grasp a cube and bring it to a goal that may be in the air.
///
/// * **Task**: the cube's centre within 5 cm of the goal.
/// * **Observation**: robot (7) + object (22) = 29 slots.
/// * **Randomization**: cube uniform in x, y ∈ [-0.15, 0.15] m on the table; goal uniform
///   in x, y ∈ [-0.15, 0.15] m, on the table half the time (Fetch's convention), otherwise
///   z ∈ [0.025, 0.25] m.
/// * **Success**: ‖cube − goal‖ < 5 cm.
/// * **Stages**: `reach` (TCP to the cube; progress from 45 cm to 3 cm) → `grasp` (cube
///   between closed fingers; progress = closing, up to half the stage until the cube is
///   held) → `place` (cube to goal; progress from 50 cm, farther than any goal starts,
///   to 5 cm).
/// * **Reward** (dense, staged as ManiSkill's PickCube), per step, at most 1 before
///   success: `reach` = 0.25 (1 − tanh(5‖TCP − cube‖)), `grasp` = +0.25 while grasped,
///   `place` = 0.5 (1 − tanh(3‖cube − goal‖)) while grasped or solved, `success` = +1.
///
/// `V` is the version: `PickPlace-v2` (`PickPlace<2>`, the default) is the task above.
/// `PickPlace-v1` (`PickPlace<1>`) judges a grasp by the fingers' opening alone (which a
/// half-open gripper meets without holding the cube; Φ's stages follow it) and has an
/// ungated, linear dense reward:
/// `reach` = −0.5‖TCP − cube‖, `grasp` = +0.25 while grasped, `place` = −‖cube − goal‖,
/// `success` = +1 — pushing the cube towards a goal on the table paid as much as carrying
/// it, and PPO on it plateaued at 52–70% (docs/manipulation-learning.md).
/// `PickPlace-v0` (`PickPlace<0>`) has v1's reward; its Φ differs: its `grasp` progress
/// reaches 1 for any gripper closed to 6.2 cm near the cube, held cube or not, and its `place` progress
/// starts at 35 cm — so for a goal farther than 35 cm, closing an empty gripper beside the
/// cube was worth exactly as much Φ (2/3) as holding it, and potential shaping paid
/// nothing for the grasp.
#[derive(Debug, Default)]
pub struct PickPlace<const V: u8 = 2> {
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

/// Whether the cube sits between the fingers with the gripper closed on it; from v2 on, also
/// squeezed by both pads with at least [`GRASP_FORCE`] each (held firmly enough to lift).
fn grasped<const V: u8>(scene: &TaskScene) -> bool {
    let (c, tcp) = (cube(scene), scene.tcp());
    let width = scene.gripper_width();
    let around = (tcp - c).length() < NEAR && width < GRASP_WIDTH && width > 2.0 * CUBE_HALF - 0.02;
    around && (V < 2 || scene.squeezes(scene.objects[0], GRASP_FORCE))
}

/// Stage and progress within it (see [`PickPlace`]'s stages), from what `evaluate` measures:
/// `tcp_to_cube`, `to_goal` and `width` (gripper opening) in m; `open` is the robot's
/// widest opening, m.
fn stage_of<const V: u8>(
    success: bool,
    grasped: bool,
    tcp_to_cube: f32,
    to_goal: f32,
    (width, open): (f32, f32),
) -> (usize, f32) {
    let (place_from, closing_share) = if V == 0 { (0.35, 1.0) } else { (0.5, 0.5) };
    if success {
        (3, 0.0)
    } else if grasped {
        (2, approach(to_goal, PLACE_THRESHOLD, place_from))
    } else if tcp_to_cube < NEAR {
        // Closing: from fully open (9 cm on the RaptArm, 8 on the Panda) to touching the
        // cube (6.2 cm); v1 keeps the rest of the stage for an actual grasp.
        let closing = approach(width, GRASP_WIDTH, open);
        (1, closing_share * closing)
    } else {
        (0, approach(tcp_to_cube, NEAR, 0.45))
    }
}

/// The dense reward's terms `[reach, grasp, place, success]` (see [`PickPlace`]) from
/// whether the cube is held, whether the task is solved, and the TCP–cube and cube–goal
/// distances, m.
fn dense_terms<const V: u8>(held: bool, success: bool, to_cube: f32, to_goal: f32) -> [f32; 4] {
    let grasp = if held { 0.25 } else { 0.0 };
    let success = f32::from(u8::from(success));
    if V < 2 {
        return [-0.5 * to_cube, grasp, -to_goal, success];
    }
    let place = if held || success > 0.0 {
        0.5 * (1.0 - (3.0 * to_goal).tanh())
    } else {
        0.0
    };
    [0.25 * (1.0 - (5.0 * to_cube).tanh()), grasp, place, success]
}

impl<const V: u8> Task for PickPlace<V> {
    const ID: &'static str = match V {
        0 => "PickPlace-v0",
        1 => "PickPlace-v1",
        _ => "PickPlace-v2",
    };
    const SUMMARY: &'static str =
        "grasp a 5 cm cube and place it at a goal, possibly in the air (rapier)";
    const PANDA: Option<(&'static str, &'static str)> = match V {
        2 => Some((
            "PandaPickPlace-v0",
            "PickPlace-v2 on the Franka Panda: grasp a 5 cm cube and place it at a goal",
        )),
        _ => None,
    };
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
        let start = uniform_xy(rng, 0.15 + scene.spread, CUBE_HALF);
        let in_air = rng.random_bool(0.5);
        let mut goal = uniform_xy(rng, 0.15 + scene.spread, CUBE_HALF);
        while (goal - start).length() < 0.1 {
            goal = uniform_xy(rng, 0.15 + scene.spread, CUBE_HALF);
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
        let tcp = scene.tcp();
        object_obs(&scene.world, scene.objects[0], tcp, scene.goal, obs);
    }

    fn evaluate(&self, scene: &TaskScene) -> TaskEvaluation {
        let (c, tcp) = (cube(scene), scene.tcp());
        let to_goal = (scene.goal - c).length();
        let success = to_goal < PLACE_THRESHOLD;
        let width = scene.gripper_width();
        let (stage, stage_progress) = stage_of::<V>(
            success,
            grasped::<V>(scene),
            (tcp - c).length(),
            to_goal,
            (width, 2.0 * scene.robot.finger_open),
        );
        TaskEvaluation {
            success,
            stage,
            stage_progress,
        }
    }

    fn dense_reward(&self, scene: &TaskScene, eval: &TaskEvaluation, terms: &mut [f32]) -> f32 {
        let (c, tcp) = (cube(scene), scene.tcp());
        let held = grasped::<V>(scene);
        let (to_cube, to_goal) = ((tcp - c).length(), (scene.goal - c).length());
        terms.copy_from_slice(&dense_terms::<V>(held, eval.success, to_cube, to_goal));
        terms.iter().sum()
    }

    fn metrics(&self, scene: &TaskScene, out: &mut [f32]) {
        let (c, tcp) = (cube(scene), scene.tcp());
        out[0] = (scene.goal - c).length();
        out[1] = (tcp - c).length();
        out[2] = f32::from(u8::from(grasped::<V>(scene)));
        out[3] = c.z - CUBE_HALF;
    }

    fn expert(&mut self, scene: &TaskScene, action: &mut [f32; 4]) {
        let (c, tcp) = (cube(scene), scene.tcp());
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
                if !grasped::<V>(scene) && (tcp - c).length() > 0.03 {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn phi<const V: u8>(grasped: bool, tcp_to_cube: f32, to_goal: f32, width: f32) -> f32 {
        let (stage, stage_progress) =
            stage_of::<V>(false, grasped, tcp_to_cube, to_goal, (width, 0.09));
        TaskEvaluation {
            success: false,
            stage,
            stage_progress,
        }
        .phi(3)
    }

    #[test]
    fn v2_pays_for_carrying_the_cube_to_the_goal_not_for_pushing_it() {
        let total = |v: [f32; 4]| v.iter().sum::<f32>();
        // Pushed (not held) from 30 cm to 10 cm of the goal: v1 paid 0.2 per step for it,
        // v2 nothing.
        let (far, near) = (0.30, 0.10);
        let gain = |held, v2: bool| {
            let r = |d| {
                if v2 {
                    total(dense_terms::<2>(held, false, 0.01, d))
                } else {
                    total(dense_terms::<1>(held, false, 0.01, d))
                }
            };
            r(near) - r(far)
        };
        assert!((gain(false, false) - 0.2).abs() < 1e-6);
        assert_eq!(gain(false, true), 0.0);
        assert!(gain(true, true) > 0.15, "{}", gain(true, true));
        // Every step before success pays at most 1; a solved step pays more than any.
        let best_unsolved = total(dense_terms::<2>(true, false, 0.0, PLACE_THRESHOLD));
        assert!(best_unsolved <= 1.0, "{best_unsolved}");
        let dropped_at_goal = total(dense_terms::<2>(false, true, 0.1, PLACE_THRESHOLD));
        assert!(dropped_at_goal > best_unsolved, "{dropped_at_goal}");
    }

    #[test]
    fn v1_pays_for_holding_the_cube_not_for_an_empty_closed_gripper() {
        // The goal 45 cm away; the gripper closed empty (2 cm) beside the cube, or holding
        // it (5 cm opening).
        let (empty, held) = ((false, 0.01, 0.45, 0.02), (true, 0.01, 0.45, 0.05));
        let v0 = |(g, t, d, w)| phi::<0>(g, t, d, w);
        let v1 = |(g, t, d, w)| phi::<1>(g, t, d, w);
        assert_eq!(v0(empty), v0(held), "v0's flaw, kept for its runs");
        assert!((v1(empty) - 0.5).abs() < 1e-6, "{}", v1(empty));
        assert!(v1(held) > 0.69, "{}", v1(held));
        // Closer to the goal is more progress wherever a goal can start (≤ 48 cm).
        assert!(phi::<1>(true, 0.01, 0.40, 0.05) > v1(held));
        assert_eq!(phi::<0>(true, 0.01, 0.40, 0.05), v0(held));
        // Reach and the first half of closing are the same in both versions.
        for (g, t, d, w) in [(false, 0.2, 0.3, 0.09), (false, 0.02, 0.3, 0.09)] {
            assert_eq!(phi::<0>(g, t, d, w), phi::<1>(g, t, d, w));
        }
    }
}
