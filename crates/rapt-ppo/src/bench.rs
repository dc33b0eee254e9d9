//! PPO update throughput on a synthetic rollout (what `rapt bench-update` and the
//! PyTorch peer in `benches/peers/` time).

use std::time::Instant;

use rand::Rng as _;
use rapt_core::rng_from_seed;

use crate::{GaeParams, Learner, RolloutBuffer};

/// A finished rollout of `num_envs × num_steps` transitions for `learner`: observations
/// and rewards uniform in [-1, 1] (seeded `seed`), actions, log-probabilities and values
/// from the learner, an episode end every 50 transitions.
pub fn synthetic_rollout(learner: &Learner, num_envs: usize, seed: u64) -> RolloutBuffer {
    let batch = num_envs * learner.config().num_steps;
    let mut rng = rng_from_seed(seed);
    let mut uniform =
        |k: usize| -> Vec<f32> { (0..k).map(|_| rng.random_range(-1.0f32..1.0)).collect() };
    let obs = uniform(batch * learner.obs_dim());
    let (actions, logp, values) = learner.act(&obs);
    let mut rollout = RolloutBuffer::new(num_envs);
    rollout.obs = obs;
    rollout.actions = actions;
    rollout.logp = logp;
    rollout.values = values;
    rollout.rewards = uniform(batch);
    rollout.terminated = (0..batch).map(|k| k % 50 == 49).collect();
    rollout.ended = rollout.terminated.clone();
    rollout.next_values = uniform(batch);
    rollout.finish(&vec![0.0; num_envs], GaeParams::default());
    rollout
}

/// Time `updates` PPO updates on `rollout` after one warm-up update: (seconds, samples
/// per second counting every epoch's pass over the batch).
pub fn update_throughput(
    learner: &mut Learner,
    rollout: &RolloutBuffer,
    updates: usize,
) -> (f64, f64) {
    learner.update(rollout, 0.0);
    let start = Instant::now();
    for _ in 0..updates {
        learner.update(rollout, 0.0);
    }
    let seconds = start.elapsed().as_secs_f64();
    let samples = updates * learner.config().update_epochs * rollout.len();
    (seconds, samples as f64 / seconds)
}
