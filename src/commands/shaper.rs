//! Reward shaping in the training loop: Φ from the run's progress model for every
//! transition, `r + γΦ(s') − Φ(s)` (or the semantic-trap ablation `r + Φ(s')`), with
//! Φ(terminal) = 0 on `terminated` and the real Φ of `final_obs` on truncation.

use anyhow::{Context, Result, bail};
use rapt_core::{Batch, InfoLayout};
use rapt_reward::{PotentialShaping, ProgressInput, ProgressModel, Shaping, progress_as_reward};

/// Means of the shaping's parts over the transitions since the last `take`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShapingStats {
    /// The env's reward.
    pub base: f64,
    /// The shaping term.
    pub shaping: f64,
    /// Φ(s').
    pub phi: f64,
}

/// Shapes a vector env's rewards as the run config says.
pub struct Shaper {
    potential: Option<PotentialShaping>,
    model: Box<dyn ProgressModel>,
    task: String,
    phi_column: usize,
    /// Φ of each env's current state.
    phi_prev: Vec<f32>,
    privileged: Vec<f32>,
    sums: (f64, f64, f64, u64),
}

impl std::fmt::Debug for Shaper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shaper")
            .field("model", &self.model.name())
            .field("potential", &self.potential)
            .finish_non_exhaustive()
    }
}

impl Shaper {
    /// The shaper for `shaping` on an env `env_id` with info `layout`, learner discount
    /// `gamma`; `None` when the run is not shaped.
    pub fn new(
        shaping: &Shaping,
        env_id: &str,
        layout: &InfoLayout,
        gamma: f32,
    ) -> Result<Option<Self>> {
        let Some(spec) = shaping.model() else {
            return Ok(None);
        };
        shaping.check(gamma).context("shaping")?;
        let model = spec.build().context("shaping")?;
        if model.needs_frames() {
            bail!(
                "shaping: `{}` needs camera frames, which training does not render yet",
                model.name()
            );
        }
        let Some(phi_column) = layout.metric_index("phi") else {
            bail!(
                "shaping: the progress model reads the env's privileged progress, and `{env_id}` reports no `phi` metric"
            );
        };
        let potential =
            matches!(shaping, Shaping::Potential { .. }).then_some(PotentialShaping { gamma });
        Ok(Some(Self {
            potential,
            model,
            task: env_id.to_string(),
            phi_column,
            phi_prev: Vec::new(),
            privileged: Vec::new(),
            sums: (0.0, 0.0, 0.0, 0),
        }))
    }

    fn score(&mut self, info: &rapt_core::InfoBatch, n: usize) -> Result<Vec<f32>> {
        self.privileged.clear();
        self.privileged
            .extend((0..n).map(|i| info.metrics_of(i)[self.phi_column]));
        let scores = self
            .model
            .score(&ProgressInput {
                n,
                task: &self.task,
                privileged: Some(&self.privileged),
                frames: None,
            })
            .context("scoring progress")?;
        Ok(scores.phi)
    }

    /// Record Φ of the states a reset produced.
    pub fn reset(&mut self, batch: &Batch) -> Result<()> {
        self.phi_prev = self.score(&batch.info, batch.num_envs)?;
        Ok(())
    }

    /// Shape `rewards` (the batch's rewards, copied) in place for the step that produced
    /// `batch`.
    pub fn apply(&mut self, batch: &Batch, rewards: &mut [f32]) -> Result<()> {
        let n = batch.num_envs;
        let now = self.score(&batch.info, n)?;
        // Φ(s') is the final observation's for envs whose episode ended this step.
        let ended: Vec<usize> = (0..n).filter(|&i| batch.ended[i]).collect();
        let mut next = now.clone();
        if !ended.is_empty() {
            let finals = self.score(&batch.final_info, n)?;
            for &i in &ended {
                next[i] = finals[i];
            }
        }
        for i in 0..n {
            let shaped = match self.potential {
                Some(p) => p.shape(rewards[i], self.phi_prev[i], next[i], batch.terminated[i]),
                None => progress_as_reward(rewards[i], next[i]),
            };
            self.sums.0 += f64::from(rewards[i]);
            self.sums.1 += f64::from(shaped.shaping);
            self.sums.2 += f64::from(next[i]);
            self.sums.3 += 1;
            rewards[i] = shaped.reward;
        }
        self.phi_prev = now;
        Ok(())
    }

    /// Means since the last call.
    pub fn take(&mut self) -> ShapingStats {
        let (b, s, p, k) = std::mem::take(&mut self.sums);
        let k = k.max(1) as f64;
        ShapingStats {
            base: b / k,
            shaping: s / k,
            phi: p / k,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapt_core::{VecEnv, VecEnvOptions, rng_from_seed};
    use rapt_reward::ModelSpec;

    /// On real rollouts (Drive-v0, random actions: episodes end by infractions —
    /// `terminated` — and by a 40-step limit — `truncated`), the shaping summed along each
    /// episode telescopes to γ^T Φ(s_T) − Φ(s_0), with Φ(s_T) = 0 after a termination and
    /// the final observation's Φ after a truncation.
    #[test]
    fn shaping_telescopes_on_real_rollouts() {
        let registry = crate::registry();
        let options = VecEnvOptions {
            num_envs: 4,
            threads: 1,
            max_episode_steps: Some(40),
        };
        let mut venv = registry
            .make_vec("Drive-v0", "(observation: Vector)", &options)
            .unwrap();
        let gamma = 0.95f32;
        let shaping = Shaping::Potential {
            model: ModelSpec::Oracle,
            gamma: None,
        };
        let mut shaper = Shaper::new(&shaping, "Drive-v0", venv.info_layout(), gamma)
            .unwrap()
            .unwrap();
        let phi = venv.info_layout().metric_index("phi").unwrap();
        let b = venv.reset(Some(3)).unwrap();
        shaper.reset(b).unwrap();
        let n = 4;
        let mut start: Vec<f64> = (0..n)
            .map(|i| f64::from(b.info.metrics_of(i)[phi]))
            .collect();
        let (mut sum, mut discount) = (vec![0.0f64; n], vec![1.0f64; n]);
        let space = venv.single_action_space().clone();
        let mut rng = rng_from_seed(5);
        let mut actions = vec![0.0; n * 2];
        let (mut terminated, mut truncated) = (0, 0);
        for _ in 0..400 {
            for i in 0..n {
                space.sample(&mut rng, &mut actions[i * 2..i * 2 + 2]);
                // Half the envs drive off the road at full lock (terminated), the others
                // dawdle until the time limit (truncated).
                if i % 2 == 0 {
                    actions[i * 2..i * 2 + 2].copy_from_slice(&[1.0, 1.0]);
                }
            }
            let b = venv.step(&actions).unwrap();
            let mut rewards = b.rewards.clone();
            shaper.apply(b, &mut rewards).unwrap();
            for i in 0..n {
                sum[i] += discount[i] * f64::from(rewards[i] - b.rewards[i]);
                discount[i] *= f64::from(gamma);
                if b.ended[i] {
                    let end = if b.terminated[i] {
                        terminated += 1;
                        0.0
                    } else {
                        truncated += 1;
                        f64::from(b.final_info.metrics_of(i)[phi])
                    };
                    let expected = discount[i] * end - start[i];
                    assert!(
                        (sum[i] - expected).abs() < 1e-4,
                        "env {i}: shaping summed to {} but γ^T Φ(s_T) − Φ(s_0) = {expected}",
                        sum[i]
                    );
                    (sum[i], discount[i]) = (0.0, 1.0);
                    start[i] = f64::from(b.info.metrics_of(i)[phi]);
                }
            }
        }
        assert!(
            terminated > 3 && truncated > 3,
            "{terminated} terminated, {truncated} truncated"
        );
        let stats = shaper.take();
        assert!(stats.phi > 0.0, "{stats:?}");
    }
}
