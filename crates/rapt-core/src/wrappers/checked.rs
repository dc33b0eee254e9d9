use super::forward_spaces;
use crate::{Env, EnvError, InfoMut, Space, StepOut};

/// Turns misuse into typed errors and guards the env's output (Gymnasium's
/// `PassiveEnvChecker`/`OrderEnforcing`, always on because it is cheap):
///
/// * `step` before `reset` → [`EnvError::NotReset`]; `step` after the episode ended
///   without a reset → [`EnvError::NeedsReset`];
/// * wrong action length → [`EnvError::ActionShape`]; NaN/±inf →
///   [`EnvError::NonFiniteAction`]; a discrete action out of range →
///   [`EnvError::ActionOutOfSpace`] (continuous actions outside a box are clipped by the
///   env, as Gymnasium's `ClipAction` would);
/// * a non-finite observation or reward from the env (a physics blow-up the env did not
///   catch) is zeroed and the episode truncated, so one broken env never poisons a batch;
///   the conformance checker tests raw envs, so such a bug still fails the test suite.
#[derive(Debug)]
pub struct Checked<E> {
    inner: E,
    state: State,
    discrete_actions: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    NeverReset,
    Running,
    Ended,
}

impl<E: Env> Checked<E> {
    /// Wrap `inner`.
    pub fn new(inner: E) -> Self {
        let discrete_actions = !matches!(inner.action_space(), Space::Box(_));
        Self {
            inner,
            state: State::NeverReset,
            discrete_actions,
        }
    }

    /// Validate an action against the action space.
    fn check_action(&self, action: &[f32]) -> Result<(), EnvError> {
        let space = self.inner.action_space();
        if action.len() != space.flat_dim() {
            return Err(EnvError::ActionShape {
                expected: space.flat_dim(),
                got: action.len(),
            });
        }
        if let Some(index) = action.iter().position(|v| !v.is_finite()) {
            return Err(EnvError::NonFiniteAction {
                env: 0,
                index,
                value: action[index],
            });
        }
        if self.discrete_actions && !space.contains(action) {
            return Err(EnvError::ActionOutOfSpace {
                env: 0,
                action: action.to_vec(),
                space: space.to_string(),
            });
        }
        Ok(())
    }
}

impl<E: Env> Env for Checked<E> {
    forward_spaces!();

    fn reset(
        &mut self,
        seed: Option<u64>,
        obs: &mut [f32],
        info: InfoMut<'_>,
    ) -> Result<(), EnvError> {
        let dim = self.inner.observation_space().flat_dim();
        if obs.len() != dim {
            return Err(EnvError::BatchShape {
                what: "observation buffer",
                expected: dim,
                got: obs.len(),
            });
        }
        self.inner.reset(seed, obs, info)?;
        if obs.iter().any(|v| !v.is_finite()) {
            obs.iter_mut()
                .filter(|v| !v.is_finite())
                .for_each(|v| *v = 0.0);
        }
        self.state = State::Running;
        Ok(())
    }

    fn step(&mut self, action: &[f32], mut out: StepOut<'_>) -> Result<(), EnvError> {
        match self.state {
            State::NeverReset => return Err(EnvError::NotReset),
            State::Ended => return Err(EnvError::NeedsReset),
            State::Running => {}
        }
        self.check_action(action)?;
        // Envs need only raise the flags that apply: start each step from a clean slate.
        *out.reward = 0.0;
        *out.terminated = false;
        *out.truncated = false;
        self.inner.step(action, out.reborrow())?;
        let StepOut {
            obs,
            reward,
            terminated,
            truncated,
            ..
        } = out;
        if !reward.is_finite() || obs.iter().any(|v| !v.is_finite()) {
            // Never let NaN escape into a batch: end the episode as a truncation.
            obs.iter_mut()
                .filter(|v| !v.is_finite())
                .for_each(|v| *v = 0.0);
            if !reward.is_finite() {
                *reward = 0.0;
            }
            *truncated = true;
        }
        if *terminated || *truncated {
            self.state = State::Ended;
        }
        Ok(())
    }
}
