//! Episode traces: every action and observation of an episode, for checking that another
//! front end (the Python package, a new vector env) reproduces an env bit for bit.

use serde::{Deserialize, Serialize};

use crate::EnvBuffers;

/// One episode from its reset: the seed, then per step the action taken and what came back.
///
/// `obs[0]` is the observation after reset; `obs[k]`, `rewards[k - 1]`, `terminated[k - 1]`
/// and `truncated[k - 1]` are what step `k` returned for `actions[k - 1]`. Floats are
/// written in their shortest form that reads back to the same `f32`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EpisodeTrace {
    /// Reset seed.
    pub seed: u64,
    /// Flat actions, one per step.
    pub actions: Vec<Vec<f32>>,
    /// Flat observations, one more than actions.
    pub obs: Vec<Vec<f32>>,
    /// Rewards, one per step.
    pub rewards: Vec<f32>,
    /// MDP ended at the step.
    pub terminated: Vec<bool>,
    /// Episode cut at the step.
    pub truncated: Vec<bool>,
}

impl EpisodeTrace {
    /// An empty trace of the episode reset with `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            ..Self::default()
        }
    }

    /// Record a state: `action` is the one that led to it (empty for the reset state).
    pub fn record(&mut self, action: &[f32], buffers: &EnvBuffers) {
        if !action.is_empty() {
            self.actions.push(action.to_vec());
            self.rewards.push(buffers.reward);
            self.terminated.push(buffers.terminated);
            self.truncated.push(buffers.truncated);
        }
        self.obs.push(buffers.obs.clone());
    }

    /// Steps taken.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// No step taken yet.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InfoLayout;

    #[test]
    fn records_reset_then_steps() {
        let mut b = EnvBuffers::sized(2, &InfoLayout::default());
        let mut t = EpisodeTrace::new(7);
        b.obs.copy_from_slice(&[0.5, -1.0]);
        t.record(&[], &b);
        b.obs.copy_from_slice(&[0.25, 3.0]);
        (b.reward, b.truncated) = (1.5, true);
        t.record(&[0.1], &b);
        assert_eq!(t.len(), 1);
        assert_eq!(t.obs, vec![vec![0.5, -1.0], vec![0.25, 3.0]]);
        assert_eq!(
            (t.rewards[0], t.terminated[0], t.truncated[0]),
            (1.5, false, true)
        );
    }
}
