use std::f64::consts::PI;

use rand::Rng as _;
use rapt_core::{BoxSpace, Env, EnvError, InfoLayout, InfoMut, Rng, Space, StepOut, rng_from_seed};
use serde::{Deserialize, Serialize};

use crate::positive;

/// Parameters of [`Pendulum`]; defaults are Gymnasium's (SI units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PendulumParams {
    /// Gravity, m/s² (default 10.0).
    pub gravity: f64,
    /// Mass, kg (default 1.0).
    pub mass: f64,
    /// Length, m (default 1.0).
    pub length: f64,
    /// Largest torque, N·m (default 2.0); actions are clipped to ±this.
    pub max_torque: f64,
    /// Largest angular speed, rad/s (default 8.0).
    pub max_speed: f64,
    /// Control step, s (default 0.05).
    pub dt: f64,
    /// Angle from upright below which the state counts as success, rad (default 0.2).
    pub success_angle: f64,
}

impl Default for PendulumParams {
    fn default() -> Self {
        Self {
            gravity: 10.0,
            mass: 1.0,
            length: 1.0,
            max_torque: 2.0,
            max_speed: 8.0,
            dt: 0.05,
            success_angle: 0.2,
        }
    }
}

/// `Pendulum-v1`: swing a pendulum up and hold it upright.
///
/// * **Task**: minimise angle from upright, angular speed and torque.
/// * **Observation**: `[cos θ, sin θ, θ̇ (rad/s)]`, θ = 0 upright.
/// * **Action**: torque in `[-max_torque, max_torque]` N·m (`Box(1)`), clipped.
/// * **Randomization**: θ uniform in [-π, π], θ̇ uniform in [-1, 1] rad/s.
/// * **Success**: |θ| < `success_angle` (default 0.2 rad) and |θ̇| < 1 rad/s.
/// * **Reward**: `-(θ² + 0.1 θ̇² + 0.001 u²)` with terms `angle_cost`, `speed_cost`,
///   `torque_cost` (the costs, ≥ 0). Never terminates; the time limit is 200 steps.
/// * **Versions**: v1 — Gymnasium's Pendulum-v1 dynamics.
#[derive(Debug)]
pub struct Pendulum {
    params: PendulumParams,
    observation_space: Space,
    action_space: Space,
    layout: InfoLayout,
    theta: f64,
    theta_dot: f64,
    rng: Rng,
}

fn angle_normalize(x: f64) -> f64 {
    (x + PI).rem_euclid(2.0 * PI) - PI
}

impl rapt_config::Validate for PendulumParams {
    fn validate(&self, v: &mut rapt_config::Validator) {
        positive(
            v,
            &[
                ("gravity", self.gravity),
                ("mass", self.mass),
                ("length", self.length),
                ("max_torque", self.max_torque),
                ("max_speed", self.max_speed),
                ("dt", self.dt),
                ("success_angle", self.success_angle),
            ],
        );
    }
}

impl Pendulum {
    /// A pendulum with `params`; fails on non-positive physical parameters.
    pub fn new(params: PendulumParams) -> Result<Self, EnvError> {
        rapt_config::check_params("Pendulum-v1", &params)?;
        let (s, t) = (params.max_speed as f32, params.max_torque as f32);
        Ok(Self {
            observation_space: Space::Box(BoxSpace::from_bounds(
                vec![-1.0, -1.0, -s],
                vec![1.0, 1.0, s],
            )),
            action_space: Space::Box(BoxSpace::from_bounds(vec![-t], vec![t])),
            layout: InfoLayout::new(
                &["angle_cost", "speed_cost", "torque_cost"],
                &["angle_from_upright"],
            ),
            params,
            theta: 0.0,
            theta_dot: 0.0,
            rng: rng_from_seed(0),
        })
    }

    fn write(&self, obs: &mut [f32], info: InfoMut<'_>) {
        obs[0] = self.theta.cos() as f32;
        obs[1] = self.theta.sin() as f32;
        obs[2] = self.theta_dot as f32;
        let angle = angle_normalize(self.theta).abs();
        *info.success = angle < self.params.success_angle && self.theta_dot.abs() < 1.0;
        info.metrics[0] = angle as f32;
    }
}

impl Env for Pendulum {
    fn task(&self) -> &str {
        "Swing the pendulum up and hold it upright."
    }

    fn views(&self) -> &[&'static str] {
        &["front"]
    }

    /// The rod (red) from its pivot at the angle θ (0: upright), as Gymnasium draws it.
    fn render(&self, view: &str, width: usize, height: usize, rgb: &mut Vec<u8>) -> bool {
        if view != "front" || width == 0 || height == 0 {
            return false;
        }
        let span = 2.4;
        let bottom = -1.2 * height as f64 / width as f64;
        let mut c =
            crate::draw::Canvas::new(rgb, (width, height), (-1.2, bottom, span), [255, 255, 255]);
        let tip = (self.theta.sin(), self.theta.cos());
        c.line((0.0, 0.0), tip, 0.2, [204, 77, 77]);
        c.disc((0.0, 0.0), 0.05, [0, 0, 0]);
        true
    }

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
        self.theta = self.rng.random_range(-PI..PI);
        self.theta_dot = self.rng.random_range(-1.0..1.0);
        info.clear();
        self.write(obs, info);
        Ok(())
    }

    fn step(&mut self, action: &[f32], out: StepOut<'_>) -> Result<(), EnvError> {
        let p = &self.params;
        let u = f64::from(action[0]).clamp(-p.max_torque, p.max_torque);
        let th = angle_normalize(self.theta);
        let costs = [
            th * th,
            0.1 * self.theta_dot * self.theta_dot,
            0.001 * u * u,
        ];
        let acc = 3.0 * p.gravity / (2.0 * p.length) * self.theta.sin()
            + 3.0 / (p.mass * p.length * p.length) * u;
        self.theta_dot = (self.theta_dot + acc * p.dt).clamp(-p.max_speed, p.max_speed);
        self.theta += self.theta_dot * p.dt;
        *out.reward = -(costs.iter().sum::<f64>()) as f32;
        *out.terminated = false;
        *out.truncated = false;
        for (t, c) in out.info.reward_terms.iter_mut().zip(costs) {
            *t = c as f32;
        }
        *out.info.episode = None;
        self.write(out.obs, out.info);
        Ok(())
    }
}
