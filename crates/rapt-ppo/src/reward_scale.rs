//! Reward scaling as Gymnasium's `NormalizeReward` and CleanRL do it: rewards are divided
//! by the running standard deviation of each env's discounted return (not centred), then
//! clipped. The per-env return accumulators restart at every episode end.

use crate::RunningMeanStd;

/// Scales a vector env's rewards by the running std of the discounted return.
#[derive(Debug, Clone)]
pub struct RewardScaler {
    gamma: f64,
    clip: f32,
    returns: Vec<f64>,
    stats: RunningMeanStd,
}

impl RewardScaler {
    /// A scaler discounting with `gamma` and clipping scaled rewards to ±`clip`.
    pub fn new(gamma: f64, clip: f32) -> Self {
        Self {
            gamma,
            clip,
            returns: Vec::new(),
            stats: RunningMeanStd::new(1),
        }
    }

    /// Fold one step of `rewards` (one per env) into the return statistics and scale
    /// them in place; `ended` marks envs whose episode ended at this step.
    pub fn scale(&mut self, rewards: &mut [f32], ended: &[bool]) {
        self.scale_across(rewards, ended, &crate::Single);
    }

    /// [`RewardScaler::scale`] for one rank of a data-parallel run: the return
    /// statistics take every rank's returns of this step (one collective), so all ranks
    /// scale by the same std.
    pub fn scale_across(
        &mut self,
        rewards: &mut [f32],
        ended: &[bool],
        dist: &dyn crate::Collective,
    ) {
        if self.returns.len() != rewards.len() {
            self.returns = vec![0.0; rewards.len()];
        }
        let returns: Vec<f32> = self
            .returns
            .iter_mut()
            .zip(rewards.iter())
            .map(|(g, &r)| {
                *g = *g * self.gamma + f64::from(r);
                *g as f32
            })
            .collect();
        self.stats.update_across(&returns, dist);
        let std = (self.stats.var[0] + 1e-8).sqrt() as f32;
        for ((r, g), &end) in rewards.iter_mut().zip(&mut self.returns).zip(ended) {
            *r = (*r / std).clamp(-self.clip, self.clip);
            if end {
                *g = 0.0;
            }
        }
    }

    /// The running statistics of the discounted return (saved with checkpoints).
    pub fn stats(&self) -> &RunningMeanStd {
        &self.stats
    }

    /// Restore the statistics (the per-env accumulators restart at 0, like new episodes).
    pub fn set_stats(&mut self, stats: RunningMeanStd) {
        self.stats = stats;
        self.returns.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewards_are_divided_by_the_std_of_the_discounted_return() {
        let mut s = RewardScaler::new(0.5, 10.0);
        // Step 1: returns [1, 3]; step 2: returns [1·0.5 + 1, 3·0.5 + 1] = [1.5, 2.5].
        let mut r1 = [1.0, 3.0];
        s.scale(&mut r1, &[false, false]);
        let mut r2 = [1.0, 1.0];
        s.scale(&mut r2, &[false, true]);
        let mut all = RunningMeanStd::new(1);
        all.update(&[1.0, 3.0]);
        all.update(&[1.5, 2.5]);
        let std = (all.var[0] + 1e-8).sqrt() as f32;
        assert!((r2[0] - 1.0 / std).abs() < 1e-6 && (r2[1] - 1.0 / std).abs() < 1e-6);
        // Env 1's episode ended: its return restarts at the next reward.
        let mut r3 = [0.0, 2.0];
        s.scale(&mut r3, &[false, false]);
        all.update(&[0.75, 2.0]);
        let std = (all.var[0] + 1e-8).sqrt() as f32;
        assert!((r3[1] - 2.0 / std).abs() < 1e-6, "{r3:?}");
    }

    #[test]
    fn scaled_rewards_are_clipped() {
        let mut s = RewardScaler::new(0.99, 5.0);
        let mut r = [1e6, -1e6];
        s.scale(&mut r, &[false, false]);
        assert!(r.iter().all(|x| x.abs() <= 5.0));
    }
}
