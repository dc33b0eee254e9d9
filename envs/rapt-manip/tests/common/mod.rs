//! Helpers shared by this crate's tests.

use rapt_core::{Env, InfoBatch, StepOut};

/// Step `env` once, writing into `obs` and env 0 of `info`; returns (reward, terminated,
/// truncated).
pub fn step(
    env: &mut dyn Env,
    action: &[f32],
    obs: &mut [f32],
    info: &mut InfoBatch,
) -> (f32, bool, bool) {
    let (mut reward, mut terminated, mut truncated) = (0.0, false, false);
    let out = StepOut {
        obs,
        reward: &mut reward,
        terminated: &mut terminated,
        truncated: &mut truncated,
        info: info.get_mut(0),
    };
    env.step(action, out).expect("step succeeds");
    (reward, terminated, truncated)
}
