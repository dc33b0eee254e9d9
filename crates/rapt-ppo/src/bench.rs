//! PPO update throughput on a synthetic rollout (what `rapt bench-update` and the
//! PyTorch peer in `benches/peers/` time).

use std::time::Instant;

use rand::Rng as _;
use rapt_core::rng_from_seed;

use serde::Serialize;

use crate::{ActionHead, Encoder, GaeParams, Learner, ObsLayout, PpoConfig, RolloutBuffer};

/// A finished rollout of `num_envs × num_steps` transitions for `learner`, its
/// observations kept in the learner's storage ([`Learner::store_obs`]): pixels `k / 255`
/// with `k` uniform in 0..=255 (as rendered images are), other values and rewards uniform
/// in [-1, 1] (seeded `seed`); actions, log-probabilities and values from the learner; an
/// episode end every 50 transitions.
pub fn synthetic_rollout(learner: &mut Learner, num_envs: usize, seed: u64) -> RolloutBuffer {
    let batch = num_envs * learner.config().num_steps;
    let mut rng = rng_from_seed(seed);
    let (dim, pixels) = (learner.obs_dim(), learner.layout().image_len());
    let obs: Vec<f32> = (0..batch * dim)
        .map(|k| {
            if k % dim < pixels {
                f32::from(rng.random_range(0..=255u8)) / 255.0
            } else {
                rng.random_range(-1.0f32..1.0)
            }
        })
        .collect();
    let mut uniform =
        |k: usize| -> Vec<f32> { (0..k).map(|_| rng.random_range(-1.0f32..1.0)).collect() };
    let (actions, logp, values) = learner.act(&obs);
    for step in obs.chunks(num_envs * dim) {
        learner.store_obs(step);
    }
    let mut rollout = RolloutBuffer::new(num_envs);
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

/// What [`update_throughput`] measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UpdateThroughput {
    /// Wall time of the timed updates, s.
    pub seconds: f64,
    /// Samples per second, counting every epoch's pass over the batch.
    pub samples_per_s: f64,
    /// Minor page faults of the process per timed update (each a fresh page the kernel
    /// had to map: allocations that went back to the OS and came again); `None` where
    /// `/proc/self/stat` cannot be read.
    pub minor_faults_per_update: Option<f64>,
}

/// Time `updates` PPO updates on `rollout` after one warm-up update.
pub fn update_throughput(
    learner: &mut Learner,
    rollout: &RolloutBuffer,
    updates: usize,
) -> UpdateThroughput {
    learner.update(rollout, 0.0);
    let faults_before = minor_faults();
    let start = Instant::now();
    for _ in 0..updates {
        learner.update(rollout, 0.0);
    }
    let seconds = start.elapsed().as_secs_f64();
    let faults = faults_before
        .zip(minor_faults())
        .map(|(a, b)| (b - a) as f64 / updates as f64);
    let samples = updates * learner.config().update_epochs * rollout.len();
    UpdateThroughput {
        seconds,
        samples_per_s: samples as f64 / seconds,
        minor_faults_per_update: faults,
    }
}

/// Minor page faults of this process so far (`minflt`, field 10 of `/proc/self/stat`);
/// `None` off Linux or when it cannot be read.
pub fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(7)?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn minor_faults_grow_when_fresh_memory_is_touched() {
        let Some(before) = super::minor_faults() else {
            return; // not Linux
        };
        let mut v = vec![0u8; 64 << 20];
        for k in (0..v.len()).step_by(4096) {
            v[k] = 1;
        }
        std::hint::black_box(&v);
        let after = super::minor_faults().unwrap();
        assert!(
            after >= before + 1000,
            "{before} → {after} faults after touching 64 MiB"
        );
    }
}

/// A PPO update benchmark (`rapt bench-update`): a learner of this shape on the CPU,
/// timed over `updates` updates of a synthetic rollout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateBench {
    /// Vector observation values (besides the image).
    pub obs: usize,
    /// Action dimensions.
    pub act: usize,
    /// Hidden layer widths.
    pub hidden: Vec<i64>,
    /// Envs × steps make the batch.
    pub envs: usize,
    /// Steps per env in the batch.
    pub steps: usize,
    /// Samples per minibatch.
    pub minibatch: usize,
    /// Epochs per update.
    pub epochs: usize,
    /// Torch threads.
    pub threads: usize,
    /// Timed updates.
    pub updates: usize,
    /// An image observation (channels, height, width) read by a CNN, if any.
    pub image: Option<[usize; 3]>,
    /// The CNN's channels.
    pub channels: Vec<i64>,
    /// The CNN's feature width.
    pub features: i64,
    /// The action head.
    pub head: ActionHead,
}

/// What an [`UpdateBench`] measured.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateBenchReport {
    /// The benchmark.
    #[serde(flatten)]
    pub bench: UpdateBench,
    /// The batch, samples.
    pub batch: usize,
    /// The timing.
    #[serde(flatten)]
    pub measured: UpdateThroughput,
}

impl UpdateBench {
    /// Build the learner and time its updates.
    pub fn run(&self) -> Result<UpdateBenchReport, crate::TrainError> {
        let batch = self.envs * self.steps;
        if batch < self.minibatch {
            return Err(crate::TrainError::Invalid(format!(
                "the batch ({} envs × {} steps) must hold at least one minibatch of {}",
                self.envs, self.steps, self.minibatch
            )));
        }
        crate::configure_torch_threads(self.threads);
        let layout = ObsLayout {
            dim: self.image.map_or(0, |[c, h, w]| c * h * w) + self.obs,
            image: self.image,
        };
        let config = PpoConfig {
            num_steps: self.steps,
            num_minibatches: (batch / self.minibatch).max(1),
            update_epochs: self.epochs,
            norm_obs: false,
            anneal_lr: false,
            hidden: self.hidden.clone(),
            encoder: match self.image {
                Some(_) => Encoder::Cnn {
                    channels: self.channels.clone(),
                    features: self.features,
                },
                None => Encoder::Mlp,
            },
            action_head: self.head,
            ..PpoConfig::default()
        };
        let mut learner = Learner::new(layout, self.act, config, tch::Device::Cpu, 1)?;
        let rollout = synthetic_rollout(&mut learner, self.envs, 1);
        let measured = update_throughput(&mut learner, &rollout, self.updates);
        Ok(UpdateBenchReport {
            bench: self.clone(),
            batch,
            measured,
        })
    }
}

impl std::fmt::Display for UpdateBenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = &self.bench;
        let image = b.image.map_or(String::new(), |i| {
            format!("image {i:?} + {} values, CNN, ", b.obs)
        });
        let faults = self
            .measured
            .minor_faults_per_update
            .map_or("?".into(), |f| format!("{f:.0}"));
        writeln!(
            f,
            "PPO update: batch {}, minibatch {}, {image}hidden {:?}, {} epochs, {} threads: {:.0} samples/s, {faults} minor page faults per update",
            self.batch, b.minibatch, b.hidden, b.epochs, b.threads, self.measured.samples_per_s
        )
    }
}
