//! Classic-control environments with Gymnasium's dynamics, rewards and limits, so results
//! compare one to one with Gymnasium's `CartPole-v1` and `Pendulum-v1`.
//!
//! They are small and fast: the smoke tests of the vector API, the learner and the CLI run
//! on them before the rapier environments come in.
#![warn(missing_docs)]

mod cartpole;
mod draw;
mod pendulum;

pub use cartpole::{CartPole, CartPoleParams};
pub use pendulum::{Pendulum, PendulumParams};

use rapt_core::{EnvError, EnvSpec, Registry};

/// Register `CartPole-v1` and `Pendulum-v1`.
pub fn register(registry: &mut Registry) -> Result<(), EnvError> {
    registry.register(EnvSpec {
        id: "CartPole-v1",
        summary: "balance a pole on a cart by pushing it left or right (Discrete(2))",
        max_episode_steps: 500,
        default_params: || to_ron(&CartPoleParams::default()),
        make: |p| {
            Ok(Box::new(CartPole::new(rapt_core::parse_params(
                "CartPole-v1",
                p,
            )?)?))
        },
    })?;
    registry.register(EnvSpec {
        id: "Pendulum-v1",
        summary: "swing a pendulum up and hold it upright with a bounded torque (Box(1))",
        max_episode_steps: 200,
        default_params: || to_ron(&PendulumParams::default()),
        make: |p| {
            Ok(Box::new(Pendulum::new(rapt_core::parse_params(
                "Pendulum-v1",
                p,
            )?)?))
        },
    })
}

fn to_ron<T: serde::Serialize>(value: &T) -> String {
    ron::ser::to_string_pretty(value, ron::ser::PrettyConfig::default())
        .unwrap_or_else(|e| format!("<unprintable: {e}>"))
}

/// Require each `(name, value)` to be finite and > 0.
fn positive(v: &mut rapt_config::Validator, fields: &[(&str, f64)]) {
    for &(name, value) in fields {
        v.check(
            name,
            value.is_finite() && value > 0.0,
            format!("= {value} must be finite and > 0"),
        );
    }
}
