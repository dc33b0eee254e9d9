//! The rollout buffer (Stable-Baselines3's `RolloutBuffer`): one `T × N` time-major rollout
//! (index `t * N + i`), filled step by step with [`RolloutBuffer::push`] and closed with
//! [`RolloutBuffer::finish`], which owns the bootstrap and computes the advantages.
//!
//! The value of the state after each transition, which GAE bootstraps from, is:
//! * 0 where the episode **terminated** (the MDP ended);
//! * V(`final_obs`) where it was **truncated** (a time limit is not the end of the MDP:
//!   the caller passes these values with the step, from the observation the vector env
//!   kept before its same-step reset);
//! * otherwise V(s_{t+1}), the value the policy computes for the next step anyway: the
//!   next `push` supplies it, and `finish(last_values)` for the last step.

use crate::{GaeInputs, GaeParams, compute_gae};

/// One vector-env step as the learner saw it, each slice `N` rows.
#[derive(Debug, Clone, Copy)]
pub struct StepRecord<'a> {
    /// Observations the actions were taken in (normalized, as the policy saw them),
    /// `N × obs_dim`; empty when they went to the learner's storage instead
    /// ([`crate::Learner::store_obs`], what [`crate::Trainer`] does).
    pub obs: &'a [f32],
    /// Sampled (unclipped) actions, `N × act_dim`.
    pub actions: &'a [f32],
    /// Log-probabilities of the actions when sampled.
    pub logp: &'a [f32],
    /// V(s_t) when sampled.
    pub values: &'a [f32],
    /// Rewards of the transition (may be shaped and scaled later, before `finish`).
    pub rewards: &'a [f32],
    /// The MDP ended at this step.
    pub terminated: &'a [bool],
    /// The episode ended at this step (terminated or truncated).
    pub ended: &'a [bool],
    /// V(final_obs) for the envs truncated (and not terminated) at this step; ignored for
    /// the others (0 by convention).
    pub truncation_values: &'a [f32],
}

/// A rollout being collected, then its advantages and returns.
#[derive(Debug, Clone, Default)]
pub struct RolloutBuffer {
    /// Sub-environments, `N`.
    pub num_envs: usize,
    /// Observations, `T × N × obs_dim`, or empty when they are in the learner's storage
    /// ([`crate::Learner::store_obs`]).
    pub obs: Vec<f32>,
    /// Sampled (unclipped) actions, `T × N × act_dim`.
    pub actions: Vec<f32>,
    /// Log-probabilities of the actions when sampled.
    pub logp: Vec<f32>,
    /// V(s_t) when sampled.
    pub values: Vec<f32>,
    /// Rewards.
    pub rewards: Vec<f32>,
    /// MDP ends.
    pub terminated: Vec<bool>,
    /// Episode ends (terminated or truncated).
    pub ended: Vec<bool>,
    /// Value of the next state (see the module doc); complete after `finish`.
    pub next_values: Vec<f32>,
    /// GAE advantages, filled by `finish`.
    pub advantages: Vec<f32>,
    /// Value targets (advantages + values), filled by `finish`.
    pub returns: Vec<f32>,
    /// Envs whose episode continues past the last pushed step: their next value is the
    /// next push's V(s_t).
    continuing: Vec<bool>,
}

impl RolloutBuffer {
    /// An empty buffer for `num_envs` sub-environments.
    pub fn new(num_envs: usize) -> Self {
        Self {
            num_envs,
            ..Self::default()
        }
    }

    /// Empty the buffers, keeping their capacity.
    pub fn clear(&mut self) {
        self.obs.clear();
        self.actions.clear();
        self.logp.clear();
        self.values.clear();
        self.rewards.clear();
        self.terminated.clear();
        self.ended.clear();
        self.next_values.clear();
        self.advantages.clear();
        self.returns.clear();
        self.continuing.clear();
    }

    /// Steps pushed so far, `T`.
    pub fn steps(&self) -> usize {
        self.rewards.len() / self.num_envs.max(1)
    }

    /// Transitions pushed so far, `T × N`.
    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    /// Whether nothing has been pushed.
    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }

    /// Where the rewards of step `t` start in [`RolloutBuffer::rewards`].
    pub fn step_start(&self, t: usize) -> usize {
        t * self.num_envs
    }

    /// Append one step. The values in `step.values` are V(s_t), which is also the
    /// bootstrap value of the previous step's envs whose episode went on.
    ///
    /// # Panics
    /// If a slice does not hold `N` rows.
    pub fn push(&mut self, step: StepRecord<'_>) {
        let n = self.num_envs;
        for (name, len) in [
            ("logp", step.logp.len()),
            ("values", step.values.len()),
            ("rewards", step.rewards.len()),
            ("terminated", step.terminated.len()),
            ("ended", step.ended.len()),
            ("truncation_values", step.truncation_values.len()),
        ] {
            assert_eq!(len, n, "`{name}` has {len} rows, the buffer {n} envs");
        }
        if !self.continuing.is_empty() {
            let prev = self.next_values.len() - n;
            for i in (0..n).filter(|&i| self.continuing[i]) {
                self.next_values[prev + i] = step.values[i];
            }
        }
        self.obs.extend_from_slice(step.obs);
        self.actions.extend_from_slice(step.actions);
        self.logp.extend_from_slice(step.logp);
        self.values.extend_from_slice(step.values);
        self.rewards.extend_from_slice(step.rewards);
        self.terminated.extend_from_slice(step.terminated);
        self.ended.extend_from_slice(step.ended);
        self.next_values.extend((0..n).map(|i| {
            if step.ended[i] && !step.terminated[i] {
                step.truncation_values[i]
            } else {
                0.0
            }
        }));
        self.continuing.clear();
        self.continuing.extend(step.ended.iter().map(|e| !e));
    }

    /// Close the rollout: the envs still running after the last step bootstrap from
    /// `last_values` (V of the current observations), then GAE fills
    /// [`RolloutBuffer::advantages`] and [`RolloutBuffer::returns`]. Shape and scale the
    /// rewards before calling this.
    pub fn finish(&mut self, last_values: &[f32], params: GaeParams) {
        let n = self.num_envs;
        assert_eq!(last_values.len(), n, "one last value per env");
        if !self.continuing.is_empty() {
            let last = self.next_values.len() - n;
            for i in (0..n).filter(|&i| self.continuing[i]) {
                self.next_values[last + i] = last_values[i];
            }
        }
        let len = self.rewards.len();
        self.advantages.resize(len, 0.0);
        self.returns.resize(len, 0.0);
        compute_gae(
            &GaeInputs {
                num_envs: n,
                rewards: &self.rewards,
                values: &self.values,
                next_values: &self.next_values,
                terminated: &self.terminated,
                ended: &self.ended,
            },
            params,
            &mut self.advantages,
            &mut self.returns,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two envs, three steps, γ = 0.9, λ = 0.5, no env behind it. Env 0 is truncated
    /// after step 0 (V(final_obs) = 10) and runs on to the end (last value 4); env 1
    /// terminates after step 1 (its V(final_obs) would be 7, which must be ignored) and
    /// then runs a new episode to the end (last value 2). V(s_t) per step: env 0
    /// [1, 2, 3], env 1 [5, 6, 1]; rewards 1 everywhere.
    ///
    /// env 0: δ2 = 1 + 0.9·4 − 3 = 1.6            A2 = 1.6
    ///        δ1 = 1 + 0.9·3 − 2 = 1.7            A1 = 1.7 + 0.45·1.6 = 2.42
    ///        δ0 = 1 + 0.9·10 − 1 = 9 (truncated) A0 = 9 (no flow across the end)
    /// env 1: δ2 = 1 + 0.9·2 − 1 = 1.8            A2 = 1.8
    ///        δ1 = 1 + 0 − 6 = −5 (terminated)    A1 = −5
    ///        δ0 = 1 + 0.9·6 − 5 = 1.4            A0 = 1.4 + 0.45·(−5) = −0.85
    #[test]
    fn advantages_bootstrap_through_a_truncation_and_stop_at_a_termination() {
        let mut buf = RolloutBuffer::new(2);
        let values = [[1.0, 5.0], [2.0, 6.0], [3.0, 1.0]];
        let ends = [
            // (terminated, ended, truncation value) per env
            [(false, true, 10.0), (false, false, 0.0)],
            [(false, false, 0.0), (true, true, 7.0)],
            [(false, false, 0.0), (false, false, 0.0)],
        ];
        for t in 0..3 {
            let terminated: Vec<bool> = ends[t].iter().map(|e| e.0).collect();
            let ended: Vec<bool> = ends[t].iter().map(|e| e.1).collect();
            let trunc: Vec<f32> = ends[t].iter().map(|e| e.2).collect();
            buf.push(StepRecord {
                obs: &[0.0; 2],
                actions: &[0.0; 2],
                logp: &[0.0; 2],
                values: &values[t],
                rewards: &[1.0, 1.0],
                terminated: &terminated,
                ended: &ended,
                truncation_values: &trunc,
            });
        }
        buf.finish(
            &[4.0, 2.0],
            GaeParams {
                gamma: 0.9,
                lambda: 0.5,
            },
        );
        // Time-major: [t0 e0, t0 e1, t1 e0, t1 e1, t2 e0, t2 e1].
        assert_eq!(buf.next_values, [10.0, 6.0, 3.0, 0.0, 4.0, 2.0]);
        let expected = [9.0, -0.85, 2.42, -5.0, 1.6, 1.8];
        for (k, (a, e)) in buf.advantages.iter().zip(expected).enumerate() {
            assert!((a - e).abs() < 1e-5, "advantage {k}: {a} vs {e}");
            let v = values[k / 2][k % 2];
            assert!((buf.returns[k] - (a + v)).abs() < 1e-5);
        }
        buf.clear();
        assert!(buf.is_empty() && buf.advantages.is_empty());
    }
}
