use rand::Rng as _;
use rapt_core::{BoxSpace, Env, EnvError, InfoLayout, InfoMut, Rng, Space, StepOut, rng_from_seed};
use serde::{Deserialize, Serialize};

use crate::positive;

/// Parameters of [`CartPole`]; defaults are Gymnasium's (SI units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CartPoleParams {
    /// Gravity, m/s² (default 9.8).
    pub gravity: f64,
    /// Cart mass, kg (default 1.0).
    pub cart_mass: f64,
    /// Pole mass, kg (default 0.1).
    pub pole_mass: f64,
    /// Half the pole's length, m (default 0.5).
    pub half_length: f64,
    /// Force of one push, N (default 10.0).
    pub force: f64,
    /// Integration step, s (default 0.02).
    pub tau: f64,
    /// Steps survived that count as success (default 475, Gymnasium's reward threshold).
    pub success_steps: u32,
}

impl Default for CartPoleParams {
    fn default() -> Self {
        Self {
            gravity: 9.8,
            cart_mass: 1.0,
            pole_mass: 0.1,
            half_length: 0.5,
            force: 10.0,
            tau: 0.02,
            success_steps: 475,
        }
    }
}

/// `CartPole-v1`: balance a pole hinged on a cart by pushing the cart left or right.
///
/// * **Task**: keep |θ| ≤ 12° and |x| ≤ 2.4 m for as long as possible.
/// * **Observation**: `[x (m), ẋ (m/s), θ (rad), θ̇ (rad/s)]`.
/// * **Action**: `Discrete(2)`: 0 pushes left, 1 pushes right.
/// * **Randomization**: every state variable uniform in [-0.05, 0.05].
/// * **Success**: survived `success_steps` steps (default 475).
/// * **Reward**: +1 per step (term `alive`), also on the terminating step, as Gymnasium.
/// * **Versions**: v1 — Gymnasium's CartPole-v1 dynamics (Euler), 500-step limit.
#[derive(Debug)]
pub struct CartPole {
    params: CartPoleParams,
    observation_space: Space,
    action_space: Space,
    layout: InfoLayout,
    state: [f64; 4],
    steps: u32,
    rng: Rng,
}

const THETA_LIMIT: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;
const X_LIMIT: f64 = 2.4;

impl rapt_config::Validate for CartPoleParams {
    fn validate(&self, v: &mut rapt_config::Validator) {
        positive(
            v,
            &[
                ("gravity", self.gravity),
                ("cart_mass", self.cart_mass),
                ("pole_mass", self.pole_mass),
                ("half_length", self.half_length),
                ("force", self.force),
                ("tau", self.tau),
            ],
        );
    }
}

impl CartPole {
    /// A cart-pole with `params`; fails on non-positive physical parameters.
    pub fn new(params: CartPoleParams) -> Result<Self, EnvError> {
        rapt_config::check_params("CartPole-v1", &params)?;
        let inf = f32::INFINITY;
        let (x, th) = ((X_LIMIT * 2.0) as f32, (THETA_LIMIT * 2.0) as f32);
        Ok(Self {
            params,
            observation_space: Space::Box(BoxSpace::from_bounds(
                vec![-x, -inf, -th, -inf],
                vec![x, inf, th, inf],
            )),
            action_space: Space::Discrete { n: 2, start: 0 },
            layout: InfoLayout::new(&["alive"], &["cart_position", "pole_angle"]),
            state: [0.0; 4],
            steps: 0,
            rng: rng_from_seed(0),
        })
    }

    fn write(&self, obs: &mut [f32], info: InfoMut<'_>) {
        for (o, s) in obs.iter_mut().zip(&self.state) {
            *o = *s as f32;
        }
        *info.success = self.steps >= self.params.success_steps;
        info.metrics[0] = self.state[0] as f32;
        info.metrics[1] = self.state[2] as f32;
    }
}

impl Env for CartPole {
    fn task(&self) -> &str {
        "Keep the pole balanced upright on the cart."
    }

    fn views(&self) -> &[&'static str] {
        &["front"]
    }

    /// The cart (black) on its track, the pole (tan) at its angle, as Gymnasium draws
    /// them: 4.8 m of track across the picture.
    fn render(&self, view: &str, width: usize, height: usize, rgb: &mut Vec<u8>) -> bool {
        if view != "front" || width == 0 || height == 0 {
            return false;
        }
        let span = 2.0 * X_LIMIT;
        let aspect = height as f64 / width as f64;
        let mut c = crate::draw::Canvas::new(
            rgb,
            (width, height),
            (-X_LIMIT, -0.35 * span * aspect, span),
            [255, 255, 255],
        );
        let [x, _, theta, _] = self.state;
        let length = 2.0 * self.params.half_length;
        c.rect((0.0, -0.15), (span, 1.5 * span / width as f64), [0, 0, 0]);
        c.rect((x, 0.0), (0.5, 0.3), [0, 0, 0]);
        let tip = (x + length * theta.sin(), length * theta.cos());
        c.line((x, 0.0), tip, 0.1, [202, 152, 101]);
        c.disc((x, 0.0), 0.05, [129, 132, 203]);
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
        for s in &mut self.state {
            *s = self.rng.random_range(-0.05..0.05);
        }
        self.steps = 0;
        info.clear();
        self.write(obs, info);
        Ok(())
    }

    fn step(&mut self, action: &[f32], out: StepOut<'_>) -> Result<(), EnvError> {
        let p = &self.params;
        let force = if action[0] >= 0.5 { p.force } else { -p.force };
        let [x, x_dot, theta, theta_dot] = self.state;
        let (cos, sin) = (theta.cos(), theta.sin());
        let total_mass = p.cart_mass + p.pole_mass;
        let pole_mass_length = p.pole_mass * p.half_length;
        let temp = (force + pole_mass_length * theta_dot * theta_dot * sin) / total_mass;
        let theta_acc = (p.gravity * sin - cos * temp)
            / (p.half_length * (4.0 / 3.0 - p.pole_mass * cos * cos / total_mass));
        let x_acc = temp - pole_mass_length * theta_acc * cos / total_mass;
        self.state = [
            x + p.tau * x_dot,
            x_dot + p.tau * x_acc,
            theta + p.tau * theta_dot,
            theta_dot + p.tau * theta_acc,
        ];
        self.steps += 1;
        let fallen = self.state[0].abs() > X_LIMIT || self.state[2].abs() > THETA_LIMIT;
        *out.reward = 1.0;
        *out.terminated = fallen;
        *out.truncated = false;
        out.info.reward_terms[0] = 1.0;
        *out.info.episode = None;
        self.write(out.obs, out.info);
        Ok(())
    }
}
