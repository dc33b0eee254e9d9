//! Buffers to drive one [`Env`] directly, outside a vector env: tools, tests, the
//! conformance checker.

use crate::{Env, EnvError, InfoBatch, InfoLayout, StepOut};

/// One env's observation and info, and the last step's reward and flags.
#[derive(Debug, Clone)]
pub struct EnvBuffers {
    /// The observation.
    pub obs: Vec<f32>,
    /// The info (one env).
    pub info: InfoBatch,
    /// The last step's reward.
    pub reward: f32,
    /// The last step ended the MDP.
    pub terminated: bool,
    /// The last step was cut by a limit.
    pub truncated: bool,
}

impl EnvBuffers {
    /// Buffers sized for `env`.
    pub fn new<E: Env + ?Sized>(env: &E) -> Self {
        Self::sized(env.observation_space().flat_dim(), env.info_layout())
    }

    /// Buffers for `obs_dim` observation slots and `layout`'s info.
    pub fn sized(obs_dim: usize, layout: &InfoLayout) -> Self {
        Self {
            obs: vec![0.0; obs_dim],
            info: InfoBatch::new(1, layout),
            reward: 0.0,
            terminated: false,
            truncated: false,
        }
    }

    /// Reset `env` into these buffers.
    pub fn reset<E: Env + ?Sized>(
        &mut self,
        env: &mut E,
        seed: Option<u64>,
    ) -> Result<(), EnvError> {
        (self.reward, self.terminated, self.truncated) = (0.0, false, false);
        env.reset(seed, &mut self.obs, self.info.get_mut(0))
    }

    /// Step `env` with `action`; returns (reward, terminated, truncated).
    pub fn step<E: Env + ?Sized>(
        &mut self,
        env: &mut E,
        action: &[f32],
    ) -> Result<(f32, bool, bool), EnvError> {
        let (mut reward, mut terminated, mut truncated) = (0.0, false, false);
        env.step(
            action,
            StepOut {
                obs: &mut self.obs,
                reward: &mut reward,
                terminated: &mut terminated,
                truncated: &mut truncated,
                info: self.info.get_mut(0),
            },
        )?;
        (self.reward, self.terminated, self.truncated) = (reward, terminated, truncated);
        Ok((reward, terminated, truncated))
    }

    /// Whether the last step ended the episode.
    pub fn ended(&self) -> bool {
        self.terminated || self.truncated
    }

    /// The metric `name` of the last step, if `env` reports it.
    pub fn metric<E: Env + ?Sized>(&self, env: &E, name: &str) -> Option<f32> {
        env.info_layout()
            .metric_index(name)
            .map(|k| self.info.metrics_of(0)[k])
    }
}
