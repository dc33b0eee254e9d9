//! Generalized advantage estimation (Schulman et al. 2016) over a time-major rollout,
//! bootstrapping through truncations: a time limit is not the end of the MDP, so the value
//! of the last observation (`final_obs`) stands in for the future; only `terminated` zeroes
//! it (ManiSkill's fix of CleanRL's `done = terminated | truncated`).

/// One rollout's inputs, `T × N` time-major slices (index `t * N + i`).
#[derive(Debug, Clone, Copy)]
pub struct GaeInputs<'a> {
    /// Sub-environments per step, `N`.
    pub num_envs: usize,
    /// Rewards of each transition.
    pub rewards: &'a [f32],
    /// V(s_t), the value of the observation each action was taken in.
    pub values: &'a [f32],
    /// The value of the state after each transition: V(s_{t+1}) within an episode,
    /// V(final_obs) where the episode was truncated, ignored where it terminated.
    pub next_values: &'a [f32],
    /// The MDP ended at this transition: no bootstrap.
    pub terminated: &'a [bool],
    /// The episode ended here (terminated or truncated): advantages do not flow back
    /// across this boundary.
    pub ended: &'a [bool],
}

/// Discount γ and GAE λ (CleanRL's defaults 0.99 and 0.95).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaeParams {
    /// Discount factor γ ∈ [0, 1].
    pub gamma: f32,
    /// GAE λ ∈ [0, 1].
    pub lambda: f32,
}

impl Default for GaeParams {
    fn default() -> Self {
        Self {
            gamma: 0.99,
            lambda: 0.95,
        }
    }
}

/// Fill `advantages` and `returns` (= advantages + values, the value targets), both `T × N`.
///
/// δ_t = r_t + γ (1 − terminated_t) V_next_t − V(s_t);
/// A_t = δ_t + γ λ (1 − ended_t) A_{t+1}.
pub fn compute_gae(
    inputs: &GaeInputs<'_>,
    params: GaeParams,
    advantages: &mut [f32],
    returns: &mut [f32],
) {
    let n = inputs.num_envs;
    let len = inputs.rewards.len();
    assert!(
        n > 0 && len.is_multiple_of(n),
        "rollout length {len} is not a multiple of {n} envs"
    );
    for (name, l) in [
        ("values", inputs.values.len()),
        ("next_values", inputs.next_values.len()),
        ("terminated", inputs.terminated.len()),
        ("ended", inputs.ended.len()),
        ("advantages", advantages.len()),
        ("returns", returns.len()),
    ] {
        assert_eq!(l, len, "`{name}` has {l} entries, expected {len}");
    }
    let steps = len / n;
    for i in 0..n {
        let mut next_advantage = 0.0f32;
        for t in (0..steps).rev() {
            let k = t * n + i;
            let not_terminal = if inputs.terminated[k] { 0.0 } else { 1.0 };
            let carry = if inputs.ended[k] { 0.0 } else { 1.0 };
            let delta = inputs.rewards[k] + params.gamma * not_terminal * inputs.next_values[k]
                - inputs.values[k];
            next_advantage = delta + params.gamma * params.lambda * carry * next_advantage;
            advantages[k] = next_advantage;
            returns[k] = next_advantage + inputs.values[k];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-5
    }

    /// One env, four steps: a truncation after step 1 (bootstrapped from V(final_obs) =
    /// 5), a termination after step 3. γ = 0.9, λ = 0.8. Hand computation:
    ///   δ3 = 1 + 0 − 1 = 0                      A3 = 0
    ///   δ2 = 1 + 0.9·1 − 2 = −0.1               A2 = −0.1 + 0.72·A3 = −0.1
    ///   δ1 = 0 + 0.9·5 − 3 = 1.5 (truncated)    A1 = 1.5 (no flow from A2)
    ///   δ0 = 2 + 0.9·3 − 4 = 0.7                A0 = 0.7 + 0.72·1.5 = 1.78
    #[test]
    fn gae_matches_a_hand_computed_rollout_with_a_truncation_and_a_termination() {
        let inputs = GaeInputs {
            num_envs: 1,
            rewards: &[2.0, 0.0, 1.0, 1.0],
            values: &[4.0, 3.0, 2.0, 1.0],
            next_values: &[3.0, 5.0, 1.0, 123.0],
            terminated: &[false, false, false, true],
            ended: &[false, true, false, true],
        };
        let (mut adv, mut ret) = ([0.0; 4], [0.0; 4]);
        compute_gae(
            &inputs,
            GaeParams {
                gamma: 0.9,
                lambda: 0.8,
            },
            &mut adv,
            &mut ret,
        );
        let expected = [1.78, 1.5, -0.1, 0.0];
        for (a, e) in adv.iter().zip(expected) {
            assert!(close(*a, e), "{adv:?} vs {expected:?}");
        }
        for t in 0..4 {
            assert!(close(ret[t], adv[t] + inputs.values[t]));
        }
    }

    #[test]
    fn envs_are_independent_in_a_time_major_batch() {
        // Two envs interleaved: env 0 terminates at t = 0, env 1 continues.
        let inputs = GaeInputs {
            num_envs: 2,
            rewards: &[1.0, 1.0, 1.0, 1.0],
            values: &[0.0, 0.0, 0.0, 0.0],
            next_values: &[9.0, 0.0, 0.0, 0.0],
            terminated: &[true, false, false, false],
            ended: &[true, false, false, false],
        };
        let (mut adv, mut ret) = ([0.0; 4], [0.0; 4]);
        compute_gae(
            &inputs,
            GaeParams {
                gamma: 1.0,
                lambda: 1.0,
            },
            &mut adv,
            &mut ret,
        );
        // env 0: A(t=0) = 1 (terminated: the 9 is ignored); env 1: A(t=0) = 1 + 1 = 2.
        assert!(
            close(adv[0], 1.0) && close(adv[1], 2.0) && close(adv[3], 1.0),
            "{adv:?}"
        );
    }
}
