use rapt_core::{BoxSpace, Env, EnvError, InfoLayout, InfoMut, Rng, Space, StepOut, rng_from_seed};
use rapt_sim::rapier3d::prelude::*;
use rapt_sim::{Health, WorldConfig, check_health, new_world};

use crate::params::{ControlMode, ManipParams, RewardMode};
use crate::robot::{self, Robot};
use crate::task::{Task, TaskEvaluation, TaskScene};

/// Observation slots every task starts with: TCP position (3, m), TCP velocity (3, m/s),
/// gripper opening (1, m).
pub const ROBOT_OBS: usize = 7;
/// Fastest linear speed a body may reach before the step counts as a blow-up, m/s.
const MAX_SPEED: f32 = 20.0;
/// Fastest angular speed before the step counts as a blow-up, rad/s.
const MAX_ANGULAR_SPEED: f32 = 200.0;

/// A manipulation env: the arm, a task, and the control loop around them.
#[derive(Debug)]
pub struct ManipEnv<T: Task> {
    task: T,
    params: ManipParams,
    robot: &'static Robot,
    scene: Option<TaskScene>,
    rng: Rng,
    observation_space: Space,
    action_space: Space,
    layout: InfoLayout,
    n_terms: usize,
    last_eval: TaskEvaluation,
    blowups: u32,
    /// Actions waiting out the actuation latency, oldest first.
    pending: std::collections::VecDeque<Vec<f32>>,
}

impl<T: Task> ManipEnv<T> {
    /// An env for `task` with `params` (`params.robot` unset: the RaptArm).
    pub fn new(task: T, params: ManipParams, id: &str) -> Result<Self, EnvError> {
        rapt_config::check_params(id, &params)?;
        if let Some(r) = &params.randomize
            && r.object_scale[1] > T::MAX_OBJECT_SCALE
        {
            return Err(EnvError::InvalidParams {
                id: id.to_string(),
                message: format!(
                    "randomize.object_scale = [{}, {}]: this task is unsolvable above {:.3} (a peg must still fit its hole)",
                    r.object_scale[0],
                    r.object_scale[1],
                    T::MAX_OBJECT_SCALE
                ),
            });
        }
        let robot = Robot::get(params.robot.unwrap_or_default());
        let obs_dim = ROBOT_OBS + task.obs_dim();
        let act_dim = match params.control {
            ControlMode::EndEffectorDelta => 4,
            ControlMode::JointDelta => robot.arm_joints + 1,
        };
        let terms: Vec<&str> = match params.reward {
            RewardMode::Dense => task.reward_terms().to_vec(),
            RewardMode::Sparse => vec!["success"],
        };
        let mut metrics: Vec<&str> = vec!["phi", "stage", "physics_blowups"];
        metrics.extend_from_slice(task.metric_names());
        let n_terms = terms.len();
        let state = Space::Box(BoxSpace::uniform(
            f32::NEG_INFINITY,
            f32::INFINITY,
            &[obs_dim],
        ));
        let observation_space = match &params.camera {
            None => state,
            Some(c) => Space::Dict(vec![
                (
                    "pixels".into(),
                    Space::Box(BoxSpace::uniform(
                        0.0,
                        1.0,
                        &[3 * c.views.len(), c.size, c.size],
                    )),
                ),
                ("state".into(), state),
            ]),
        };
        Ok(Self {
            observation_space,
            action_space: Space::Box(BoxSpace::uniform(-1.0, 1.0, &[act_dim])),
            layout: InfoLayout::new(&terms, &metrics),
            task,
            params,
            robot,
            scene: None,
            rng: rng_from_seed(0),
            n_terms,
            last_eval: TaskEvaluation::default(),
            blowups: 0,
            pending: std::collections::VecDeque::new(),
        })
    }

    /// The robot this env runs.
    pub fn robot(&self) -> &'static Robot {
        self.robot
    }

    /// The current scene (after the first reset).
    pub fn scene(&self) -> Option<&TaskScene> {
        self.scene.as_ref()
    }

    /// The current scene, mutable: for tests and tools that perturb the simulation.
    pub fn scene_mut(&mut self) -> Option<&mut TaskScene> {
        self.scene.as_mut()
    }

    /// This episode's domain-randomization draws (after the first reset).
    pub fn draws(&self) -> Option<&crate::randomize::EpisodeDraws> {
        self.scene.as_ref().map(|s| &s.draws)
    }

    fn build_scene(&self) -> TaskScene {
        let config = WorldConfig {
            dt: self.params.control_dt / self.params.substeps as f32,
            gravity: 9.81,
            solver_iterations: self
                .params
                .solver_iterations
                .unwrap_or(T::SOLVER_ITERATIONS),
            length_unit: 0.1,
        };
        let mut world = new_world(&config);
        // The table: a fixed slab whose top is z = 0 (`TaskScene::table`).
        let (table, _) = world.insert(
            RigidBodyBuilder::fixed().translation(Vector::new(0.0, 0.0, -0.05)),
            ColliderBuilder::cuboid(0.7, 0.7, 0.05).friction(0.8),
        );
        let arm = self.robot.insert(&mut world);
        let objects = self.task.build(&mut world);
        TaskScene {
            world,
            table,
            robot: self.robot,
            arm,
            objects,
            goal: Vector::ZERO,
            object_color: self.params.object_color.unwrap_or(crate::views::OBJECT),
            spread: self
                .params
                .randomize
                .as_ref()
                .map_or(0.0, |r| r.placement_spread),
            draws: Default::default(),
        }
    }

    fn write_outputs(
        &self,
        scene: &TaskScene,
        eval: &TaskEvaluation,
        obs: &mut [f32],
        info: &mut InfoMut<'_>,
    ) {
        // Camera frames first (channel-major RGB in [0, 1]), then the state vector.
        let obs = match &self.params.camera {
            None => obs,
            Some(c) => {
                let plane = c.size * c.size;
                let (pixels, state) = obs.split_at_mut(3 * c.views.len() * plane);
                let mut rgb = Vec::with_capacity(3 * plane);
                for (v, view) in c.views.iter().enumerate() {
                    crate::views::render_view(scene, view, c.size, c.size, &mut rgb);
                    let out = &mut pixels[3 * v * plane..3 * (v + 1) * plane];
                    for (k, px) in rgb.chunks_exact(3).enumerate() {
                        for ch in 0..3 {
                            out[ch * plane + k] = f32::from(px[ch]) / 255.0;
                        }
                    }
                }
                state
            }
        };
        let tcp = scene.tcp();
        let v = scene.tcp_velocity();
        obs[..3].copy_from_slice(&[tcp.x, tcp.y, tcp.z]);
        obs[3..6].copy_from_slice(&[v.x, v.y, v.z]);
        obs[6] = scene.gripper_width();
        self.task.observe(scene, &mut obs[ROBOT_OBS..]);
        // A blown-up world must never leak NaN into a batch.
        obs.iter_mut()
            .filter(|x| !x.is_finite())
            .for_each(|x| *x = 0.0);
        *info.success = eval.success;
        let m = &mut info.metrics;
        m[0] = eval.phi(self.task.stages().len());
        m[1] = eval.stage as f32;
        m[2] = self.blowups as f32;
        self.task.metrics(scene, &mut m[3..]);
        m.iter_mut()
            .filter(|x| !x.is_finite())
            .for_each(|x| *x = 0.0);
    }

    fn apply_action(&mut self, action: &[f32]) {
        let scene = self.scene.as_mut().expect("reset before step");
        let robot = self.robot;
        match self.params.control {
            ControlMode::EndEffectorDelta => {
                let tcp = scene.tcp();
                let delta = Vector::new(action[0], action[1], action[2])
                    .clamp(Vector::splat(-1.0), Vector::splat(1.0));
                let target = robot::clamp_to_workspace(tcp + delta * robot::ACTION_SCALE);
                robot.command_tcp(&mut scene.world, &scene.arm, target);
                robot.command_gripper(&mut scene.world, &scene.arm, action[3]);
            }
            ControlMode::JointDelta => {
                let n = robot.arm_joints;
                robot.command_joint_delta(&mut scene.world, &scene.arm, &action[..n]);
                robot.command_gripper(&mut scene.world, &scene.arm, action[n]);
            }
        }
    }
}

impl<T: Task> Env for ManipEnv<T> {
    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn info_layout(&self) -> &InfoLayout {
        &self.layout
    }

    fn reset(
        &mut self,
        seed: Option<u64>,
        obs: &mut [f32],
        mut info: InfoMut<'_>,
    ) -> Result<(), EnvError> {
        if let Some(seed) = seed {
            self.rng = rng_from_seed(seed);
        }
        // A fresh world every episode: no contact caches or solver warm starts carry over,
        // so reset(seed) is bit-identical whatever ran before.
        let mut scene = self.build_scene();
        self.task.initialize_episode(&mut scene, &mut self.rng);
        // Randomization draws after the task's own draws, so the same seed places the same
        // objects and goal with or without it.
        if let Some(r) = &self.params.randomize {
            scene.draws = r.draw(&mut self.rng);
            crate::randomize::apply_physical(&mut scene);
        }
        self.pending.clear();
        self.blowups = 0;
        let eval = self.task.evaluate(&scene);
        info.clear();
        self.write_outputs(&scene, &eval, obs, &mut info);
        self.last_eval = eval;
        self.scene = Some(scene);
        Ok(())
    }

    fn step(&mut self, action: &[f32], mut out: StepOut<'_>) -> Result<(), EnvError> {
        if self.scene.is_none() {
            return Err(EnvError::NotReset);
        }
        match &self.params.randomize {
            Some(r) if r.action_noise > 0.0 || r.action_latency > 0 => {
                let mut noisy = action.to_vec();
                crate::randomize::add_noise(&mut noisy, r.action_noise, &mut self.rng);
                self.pending.push_back(noisy);
                // Until an action is due, the motors keep their last targets (home).
                if self.pending.len() > r.action_latency as usize {
                    let due = self.pending.pop_front().expect("non-empty");
                    self.apply_action(&due);
                }
            }
            _ => self.apply_action(action),
        }
        let scene = self.scene.as_mut().expect("checked above");
        let mut health = Health::Ok;
        for _ in 0..self.params.substeps {
            scene.world.step();
            health = check_health(&scene.world, MAX_SPEED, MAX_ANGULAR_SPEED);
            if health != Health::Ok {
                break;
            }
        }
        let scene = self.scene.as_ref().expect("checked above");
        let eval = self.task.evaluate(scene);
        let terms = &mut out.info.reward_terms[..self.n_terms];
        let reward = match self.params.reward {
            RewardMode::Dense => self.task.dense_reward(scene, &eval, terms),
            RewardMode::Sparse => {
                terms[0] = f32::from(u8::from(eval.success));
                terms[0]
            }
        };
        if health != Health::Ok {
            // A physics blow-up truncates the episode; it is counted, never propagated.
            self.blowups += 1;
            *out.truncated = true;
            *out.reward = 0.0;
            out.info.reward_terms.fill(0.0);
        } else {
            *out.reward = reward;
            *out.terminated = self.params.terminate_on_success && eval.success;
        }
        self.write_outputs(scene, &eval, out.obs, &mut out.info);
        self.last_eval = eval;
        Ok(())
    }

    fn progress(&self) -> Option<f32> {
        Some(self.last_eval.phi(self.task.stages().len()))
    }

    fn stages(&self) -> &[&'static str] {
        self.task.stages()
    }

    fn task(&self) -> &str {
        T::TASK
    }

    fn views(&self) -> &[&'static str] {
        &crate::views::VIEWS
    }

    fn render(&self, view: &str, width: usize, height: usize, rgb: &mut Vec<u8>) -> bool {
        self.scene
            .as_ref()
            .is_some_and(|scene| crate::views::render_view(scene, view, width, height, rgb))
    }

    fn expert_action(&mut self, action: &mut [f32]) -> bool {
        let Some(scene) = self.scene.as_ref() else {
            return false;
        };
        if self.params.control != ControlMode::EndEffectorDelta {
            return false;
        }
        let mut a = [0.0; 4];
        self.task.expert(scene, &mut a);
        action[..4].copy_from_slice(&a);
        true
    }
}
