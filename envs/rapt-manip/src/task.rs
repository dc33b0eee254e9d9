//! What each task defines (ManiSkill's task template): objects, episode initialisation,
//! observation, evaluation with stages and progress, dense reward terms, a scripted expert.

use rapt_core::Rng;
use rapt_sim::Arm;
use rapt_sim::rapier3d::prelude::*;

use crate::randomize::EpisodeDraws;
use crate::robot::Robot;

/// The simulated scene of one env: world, robot, task objects and goal.
pub struct TaskScene {
    /// The physics world (z up, table top at z = 0).
    pub world: PhysicsWorld,
    /// The table's body (its top is z = 0).
    pub table: RigidBodyHandle,
    /// The robot the arm is.
    pub robot: &'static Robot,
    /// The arm in this world.
    pub arm: Arm,
    /// The task's objects, in the order the task created them.
    pub objects: Vec<RigidBodyHandle>,
    /// The goal position, m.
    pub goal: Vector,
    /// RGB of the objects in camera views.
    pub object_color: [u8; 3],
    /// Widening of the task's placement ranges this episode, m on each side (domain
    /// randomization's `placement_spread`; 0 by default).
    pub spread: f32,
    /// This episode's domain-randomization draws (neutral when nothing is randomized).
    pub draws: EpisodeDraws,
}

impl TaskScene {
    /// Tool-centre-point position, m.
    pub fn tcp(&self) -> Vector {
        self.robot.tcp(&self.world, &self.arm)
    }

    /// Tool-centre-point velocity, m/s.
    pub fn tcp_velocity(&self) -> Vector {
        self.robot.tcp_velocity(&self.world, &self.arm)
    }

    /// Distance between the finger pads, m.
    pub fn gripper_width(&self) -> f32 {
        self.robot.gripper_width(&self.world, &self.arm)
    }

    /// Whether both fingers press `body` with at least `force` N each.
    pub fn squeezes(&self, body: RigidBodyHandle, force: f32) -> bool {
        self.robot.squeezes(&self.world, &self.arm, body, force)
    }
}

impl std::fmt::Debug for TaskScene {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskScene")
            .field("robot", &self.robot.kind)
            .field("bodies", &self.world.bodies.len())
            .field("objects", &self.objects)
            .field("goal", &self.goal)
            .finish()
    }
}

/// A task's judgement of the current state.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TaskEvaluation {
    /// The task is solved in this state.
    pub success: bool,
    /// Index of the stage in progress (= number of completed stages), `0..=n_stages`.
    pub stage: usize,
    /// Progress within that stage, in [0, 1].
    pub stage_progress: f32,
}

impl TaskEvaluation {
    /// Step-aware progress Φ = (completed stages + progress in the current stage) / stages,
    /// in [0, 1].
    pub fn phi(&self, n_stages: usize) -> f32 {
        ((self.stage as f32 + self.stage_progress) / n_stages as f32).clamp(0.0, 1.0)
    }
}

/// One manipulation task.
pub trait Task: Send + std::fmt::Debug {
    /// Versioned id, e.g. `Push-v0`.
    const ID: &'static str;
    /// One line saying what the task is.
    const SUMMARY: &'static str;
    /// The id and summary of this task on the Franka Panda (`robot: Panda`), for the
    /// newest version of each task; `None` for older versions.
    const PANDA: Option<(&'static str, &'static str)> = None;
    /// The task as an instruction in words, for vision-language reward models
    /// ([`rapt_core::Env::task`]).
    const TASK: &'static str;
    /// Largest `randomize.object_scale` the task stays solvable at (default 2, the
    /// parameter's own bound; a peg must still fit its hole).
    const MAX_OBJECT_SCALE: f32 = 2.0;
    /// Default episode length, control steps.
    const MAX_EPISODE_STEPS: u32;
    /// Default velocity-solver iterations per physics step (`ManipParams::solver_iterations`
    /// overrides it).
    const SOLVER_ITERATIONS: usize;
    /// Ordered stage names, e.g. `["reach", "grasp", "lift", "place"]`.
    fn stages(&self) -> &'static [&'static str];
    /// Names of the dense reward terms, in the order `dense_reward` writes them.
    fn reward_terms(&self) -> &'static [&'static str];
    /// Task-specific metrics, in the order `metrics` writes them.
    fn metric_names(&self) -> &'static [&'static str];
    /// Task-specific observation slots (appended after the robot's 7).
    fn obs_dim(&self) -> usize;
    /// Add the task's objects to a fresh world; returns their handles.
    fn build(&self, world: &mut PhysicsWorld) -> Vec<RigidBodyHandle>;
    /// Place objects and choose the goal for a new episode.
    fn initialize_episode(&mut self, scene: &mut TaskScene, rng: &mut Rng);
    /// Write the task's observation slots.
    fn observe(&self, scene: &TaskScene, obs: &mut [f32]);
    /// Success, stage and within-stage progress.
    fn evaluate(&self, scene: &TaskScene) -> TaskEvaluation;
    /// Dense reward: write each term's contribution and return their sum.
    fn dense_reward(&self, scene: &TaskScene, eval: &TaskEvaluation, terms: &mut [f32]) -> f32;
    /// Task metrics (e.g. object-to-goal distance, m).
    fn metrics(&self, scene: &TaskScene, out: &mut [f32]);
    /// The privileged scripted expert's action `[dx, dy, dz, gripper]` in [-1, 1].
    fn expert(&mut self, scene: &TaskScene, action: &mut [f32; 4]);
}

/// Progress of a distance `d` towards `done` from `far`: 0 at `far` or beyond, 1 at
/// `done` or closer, linear between.
pub fn approach(d: f32, done: f32, far: f32) -> f32 {
    ((far - d) / (far - done)).clamp(0.0, 1.0)
}

/// A P-controller action moving the TCP from `tcp` to `target`: the Cartesian part of
/// `[dx, dy, dz]`, saturated at ±1 (one unit = one full 5 cm step).
pub fn move_towards(tcp: Vector, target: Vector, gain: f32) -> [f32; 3] {
    let d = (target - tcp) * (gain / crate::robot::ACTION_SCALE);
    [
        d.x.clamp(-1.0, 1.0),
        d.y.clamp(-1.0, 1.0),
        d.z.clamp(-1.0, 1.0),
    ]
}
