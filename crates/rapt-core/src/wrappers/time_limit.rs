use super::forward_spaces;
use crate::{Env, EnvError, InfoMut, StepOut};

/// Truncates episodes after `max_episode_steps` steps (Gymnasium's `TimeLimit`): the
/// last step reports `truncated = true` unless the env terminated on that same step.
#[derive(Debug)]
pub struct TimeLimit<E> {
    inner: E,
    max_episode_steps: u32,
    elapsed: u32,
}

impl<E: Env> TimeLimit<E> {
    /// Wrap `inner`; `max_episode_steps` must be ≥ 1.
    pub fn new(inner: E, max_episode_steps: u32) -> Self {
        assert!(
            max_episode_steps >= 1,
            "max_episode_steps must be at least 1"
        );
        Self {
            inner,
            max_episode_steps,
            elapsed: 0,
        }
    }

    /// The step budget of an episode.
    pub fn max_episode_steps(&self) -> u32 {
        self.max_episode_steps
    }
}

impl<E: Env> Env for TimeLimit<E> {
    forward_spaces!();

    fn reset(
        &mut self,
        seed: Option<u64>,
        obs: &mut [f32],
        info: InfoMut<'_>,
    ) -> Result<(), EnvError> {
        self.elapsed = 0;
        self.inner.reset(seed, obs, info)
    }

    fn step(&mut self, action: &[f32], mut out: StepOut<'_>) -> Result<(), EnvError> {
        self.inner.step(action, out.reborrow())?;
        self.elapsed += 1;
        if self.elapsed >= self.max_episode_steps && !*out.terminated {
            *out.truncated = true;
        }
        Ok(())
    }
}
