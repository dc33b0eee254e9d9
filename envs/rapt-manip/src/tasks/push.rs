use rapt_core::Rng;
use rapt_sim::rapier3d::prelude::*;

use super::{CUBE_HALF, add_cube, first_object as cube, flat, object_obs, uniform_xy};
use crate::task::{Task, TaskEvaluation, TaskScene, approach, move_towards};

/// Success distance for `Push-v0`, m (Fetch's 5 cm).
pub const PUSH_THRESHOLD: f32 = 0.05;
/// TCP within this distance of the push start (behind the cube) is in the push stage, m.
const AT_START: f32 = 0.10;
/// A cube this close to the goal is in the push stage wherever the TCP is (the goal line,
/// and so the push start, is ill-defined that close), m.
const NEARLY_THERE: f32 = 0.08;
/// Height of the TCP while pushing, m (finger tips 5 mm above the table).
const PUSH_Z: f32 = 0.035;

/// `Push-v0`: push a cube to a goal on the table.
///
/// * **Task**: slide the 5 cm cube until its centre is within 5 cm of the goal.
/// * **Observation**: robot (7) + object (22: position, relative position, quaternion,
///   velocities, goal, goal − object) = 29 slots.
/// * **Randomization**: cube and goal uniform in x, y ∈ [-0.15, 0.15] m, at least 10 cm
///   apart.
/// * **Success**: ‖cube − goal‖ < 5 cm.
/// * **Stages**: `reach` (TCP to within 10 cm of the push start, 6.5 cm behind the cube on
///   the goal line; progress from 45 cm) → `push` (also entered when the cube is within
///   8 cm of the goal; cube to goal, progress from 35 cm to 5 cm).
/// * **Reward** (dense): `reach` = −0.5‖TCP − push start‖ (−0.5‖TCP − cube‖ once the
///   cube is within 8 cm of the goal), `place` = −d + 0.5 (1 − tanh(10 d)) with d =
///   ‖cube − goal‖ (m; the tanh part is 5× as steep near the goal as the linear part, so
///   centring the cube pays), `success` = +1 on success.
///
/// `V` is the version: `Push-v2` (`Push<2>`, the default) is the task above. `Push-v1`
/// (`Push<1>`) pays `place` = −‖cube − goal‖ alone, whose slope (1 per metre) pays little
/// for centring a cube that is already inside the success radius: its policies left cubes
/// near the radius' edge, where they crept out. `Push-v0` (`Push<0>`) is v1 whose `reach`
/// term is −0.5‖TCP − cube‖ everywhere, which rewards touching the cube from any side —
/// runs on it learned to push at very different speeds across seeds
/// (docs/manipulation-learning.md). Everything but those reward terms is the same in all.
#[derive(Debug, Default)]
pub struct Push<const V: u8 = 2> {
    phase: Phase,
    /// Steps spent in the current descent (a descent that stalls restarts farther back).
    descend_steps: u32,
    /// Extra distance behind the cube for the next approach, m.
    standoff: f32,
    /// Where the TCP waits once the cube is on the goal (fixed when the push ends).
    rest: Vector,
    /// Direction of the current push, fixed when it starts.
    push_dir: Vector,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum Phase {
    #[default]
    Approach,
    Descend,
    Push,
    /// The cube is on the goal: lift off and hold still.
    Done,
}

/// Unit direction from the cube to the goal, in the table plane.
fn push_direction(cube: Vector, goal: Vector) -> Vector {
    let d = Vector::new(goal.x - cube.x, goal.y - cube.y, 0.0);
    let n = d.length();
    if n > 1e-6 { d / n } else { Vector::X }
}

/// Where a push starts: behind the cube on the line from the goal through it, m.
fn push_start(cube: Vector, goal: Vector) -> Vector {
    Vector::new(cube.x, cube.y, PUSH_Z) - push_direction(cube, goal) * (CUBE_HALF + 0.04)
}

impl<const V: u8> Task for Push<V> {
    const ID: &'static str = match V {
        0 => "Push-v0",
        1 => "Push-v1",
        _ => "Push-v2",
    };
    const SUMMARY: &'static str = "push a 5 cm cube to a goal on the table (arm + gripper, rapier)";
    const PANDA: Option<(&'static str, &'static str)> = match V {
        2 => Some((
            "PandaPush-v0",
            "Push-v2 on the Franka Panda: push a 5 cm cube to a goal on the table",
        )),
        _ => None,
    };
    const TASK: &'static str = "Push the cube across the table onto the green target.";
    const MAX_EPISODE_STEPS: u32 = 100;
    const SOLVER_ITERATIONS: usize = 4;

    fn stages(&self) -> &'static [&'static str] {
        &["reach", "push"]
    }

    fn reward_terms(&self) -> &'static [&'static str] {
        &["reach", "place", "success"]
    }

    fn metric_names(&self) -> &'static [&'static str] {
        &["object_to_goal", "tcp_to_object"]
    }

    fn obs_dim(&self) -> usize {
        22
    }

    fn build(&self, world: &mut PhysicsWorld) -> Vec<RigidBodyHandle> {
        vec![add_cube(world)]
    }

    fn initialize_episode(&mut self, scene: &mut TaskScene, rng: &mut Rng) {
        let start = uniform_xy(rng, 0.15 + scene.spread, CUBE_HALF);
        let mut goal = uniform_xy(rng, 0.15 + scene.spread, CUBE_HALF);
        while (goal - start).length() < 0.1 {
            goal = uniform_xy(rng, 0.15 + scene.spread, CUBE_HALF);
        }
        scene.world.bodies[scene.objects[0]].set_translation(start, true);
        scene.goal = goal;
        self.phase = Phase::Approach;
        self.descend_steps = 0;
        self.standoff = 0.0;
        self.push_dir = Vector::X;
    }

    fn observe(&self, scene: &TaskScene, obs: &mut [f32]) {
        let tcp = scene.tcp();
        object_obs(&scene.world, scene.objects[0], tcp, scene.goal, obs);
    }

    fn evaluate(&self, scene: &TaskScene) -> TaskEvaluation {
        let (c, tcp) = (cube(scene), scene.tcp());
        let to_goal = (scene.goal - c).length();
        let success = to_goal < PUSH_THRESHOLD;
        let (stage, stage_progress) = if success {
            (2, 0.0)
        } else if (tcp - push_start(c, scene.goal)).length() < AT_START || to_goal < NEARLY_THERE {
            (1, approach(to_goal, PUSH_THRESHOLD, 0.35))
        } else {
            let behind = push_start(c, scene.goal);
            (0, approach((tcp - behind).length(), AT_START, 0.45))
        };
        TaskEvaluation {
            success,
            stage,
            stage_progress,
        }
    }

    fn dense_reward(&self, scene: &TaskScene, eval: &TaskEvaluation, terms: &mut [f32]) -> f32 {
        let (c, tcp) = (cube(scene), scene.tcp());
        let to_goal = (scene.goal - c).length();
        // v1 reaches for the push start behind the cube; near the goal, where the goal line
        // is ill-defined, for the cube itself (the two agree to ~7 mm while pushing).
        let reach_to = if V == 0 || to_goal < NEARLY_THERE {
            c
        } else {
            push_start(c, scene.goal)
        };
        terms[0] = -0.5 * (tcp - reach_to).length();
        // v2 adds a term steep near the goal: centring a cube inside the radius pays.
        terms[1] = if V >= 2 {
            -to_goal + 0.5 * (1.0 - (10.0 * to_goal).tanh())
        } else {
            -to_goal
        };
        terms[2] = f32::from(u8::from(eval.success));
        terms.iter().sum()
    }

    fn metrics(&self, scene: &TaskScene, out: &mut [f32]) {
        let (c, tcp) = (cube(scene), scene.tcp());
        out[0] = (scene.goal - c).length();
        out[1] = (tcp - c).length();
    }

    fn expert(&mut self, scene: &TaskScene, action: &mut [f32; 4]) {
        let (c, tcp) = (cube(scene), scene.tcp());
        let mut dir = scene.goal - c;
        dir.z = 0.0;
        let dist = dir.length();
        let u = if dist > 1e-6 { dir / dist } else { Vector::X };
        // Where the pusher starts: behind the cube on the line from the goal through it.
        let behind = Vector::new(c.x, c.y, PUSH_Z) - u * (CUBE_HALF + 0.04 + self.standoff);
        let r = tcp - c;
        let lateral = flat(r - u * r.dot(u));
        let target = match self.phase {
            Phase::Approach => {
                if flat(tcp - behind) < 0.01 {
                    self.phase = Phase::Descend;
                }
                Vector::new(behind.x, behind.y, 0.10)
            }
            Phase::Descend => {
                self.descend_steps += 1;
                if tcp.z < PUSH_Z + 0.008 {
                    self.phase = Phase::Push;
                    self.descend_steps = 0;
                    self.push_dir = u;
                } else if self.descend_steps > 12 {
                    // Blocked on the way down (resting on the cube): start farther back.
                    self.phase = Phase::Approach;
                    self.descend_steps = 0;
                    self.standoff = (self.standoff + 0.015).min(0.05);
                }
                behind
            }
            // Back away from the cube and up, so the fingers do not drag it.
            Phase::Done => self.rest,
            // Stop on the goal, or as soon as the cube is about to slide past it.
            Phase::Push if dist < 0.04 => {
                self.phase = Phase::Done;
                self.rest = behind - u * 0.03;
                self.rest
            }
            Phase::Push => {
                // The cube slipped off the pusher's line: lift and approach again.
                if lateral > 0.025 || r.dot(u) > -CUBE_HALF {
                    self.phase = Phase::Approach;
                }
                // Aim through the cube; slow down near the goal so the cube stops on it.
                let speed = (dist / 0.15).clamp(0.1, 1.0);
                let aim = Vector::new(c.x, c.y, PUSH_Z) - u * (CUBE_HALF + 0.012);
                let on_line = aim - u * (aim - Vector::new(tcp.x, tcp.y, PUSH_Z)).dot(u);
                aim + u * (0.05 * speed) + (on_line - Vector::new(tcp.x, tcp.y, PUSH_Z)) * 1.0
            }
        };
        let [x, y, z] = move_towards(tcp, target, 1.0);
        *action = [x, y, z, -1.0];
    }
}
