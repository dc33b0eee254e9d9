//! Train PPO on an environment defined right here, through the library API.
//!
//! `PointMass-v0` is a puck on a 1-D rail: push it (force in [-1, 1]) to a target drawn
//! at random and hold it there. Success: within 5 cm of the target at the end of the
//! 50-step episode. PPO reaches ≥ 90% success on held-out seeds within 40k steps
//! (`tests/examples_train.rs` checks it).
//!
//! `cargo run --release --example custom_env`
//!
//! The same program trains data-parallel when an MPI launcher starts it (built with the
//! `mpi` feature): `mpirun -np 2 target/release/examples/custom_env` runs two ranks of 16
//! envs each, gradients averaged every minibatch (`docs/distributed.md`).

use rand::Rng as _;
use rapt_core::{
    BoxSpace, Env, EnvError, EnvSpec, InfoLayout, InfoMut, Registry, Rng, Space, StepOut,
    VecEnvOptions, rng_from_seed,
};
use rapt_ppo::{
    DeviceChoice, EvalOptions, Evaluation, Learner, PpoConfig, Trainer, evaluate_policy,
};
use rapt_rundir::{Logger, ProgressSink};

/// Train on `PointMass-v0` for `total_steps` env steps and evaluate on 100 held-out
/// episodes: the user code the example is about.
pub fn train(total_steps: u64) -> anyhow::Result<Evaluation> {
    let mut registry = Registry::new();
    registry.register(EnvSpec {
        id: "PointMass-v0",
        summary: "push a puck on a rail to a random target and hold it there",
        max_episode_steps: 50,
        default_params: String::new,
        make: |_params| Ok(Box::new(PointMass::new())),
    })?;
    let options = VecEnvOptions {
        num_envs: 16,
        ..VecEnvOptions::default()
    };
    let mut envs = registry.make_vec("PointMass-v0", "", &options)?;
    let config = PpoConfig {
        learning_rate: 1e-3,
        num_steps: 50,
        gamma: 0.95,
        ..PpoConfig::default()
    };
    let mut learner = Learner::for_env(&envs, config, DeviceChoice::Cpu.resolve()?, 1)?;
    // One process, or one rank of `mpirun -np N`: then every rank takes rank 0's weights
    // and the trainer averages gradients and gathers episodes over the ranks.
    let dist = rapt_mpi::launch()?;
    learner.set_collective(dist.clone());
    let mut logger = Logger::new();
    if dist.rank() == 0 {
        logger = logger.with_sink(ProgressSink::new(0, total_steps));
    }
    let mut trainer = Trainer::new(learner, 1).with_logger(logger);
    trainer.learn(&mut envs, total_steps, &mut [])?;
    let held_out = EvalOptions::episodes(100);
    Ok(evaluate_policy(
        trainer.learner_mut(),
        &mut envs,
        held_out,
        None,
    )?)
}

#[allow(dead_code)] // the test includes this file and calls `train` itself
fn main() -> anyhow::Result<()> {
    let eval = train(40_000)?;
    if rapt_mpi::launcher_rank().is_some_and(|r| r > 0) {
        return Ok(()); // rank 0 reports
    }
    let (lo, hi) = eval.success_ci95;
    println!(
        "PointMass-v0: success {:.1}% (95% CI {:.1}–{:.1}%) over {} held-out episodes, mean final distance {:.3} m",
        eval.success_rate * 100.0,
        lo * 100.0,
        hi * 100.0,
        eval.episodes,
        eval.metric("distance").unwrap_or(f64::NAN)
    );
    Ok(())
}

/// Control step, s.
const DT: f32 = 0.1;
/// Success radius around the target, m.
const TOLERANCE: f32 = 0.05;

/// A puck of 1 kg on a frictionless rail, x ∈ [-1, 1] m, pushed by a force in [-1, 1] N.
///
/// * **Observation**: `[x (m), v (m/s), target − x (m)]`.
/// * **Action**: force, `Box(1)` in [-1, 1] N.
/// * **Randomization**: x and the target uniform in [-0.8, 0.8] m, v = 0.
/// * **Success**: |target − x| < 5 cm. **Reward**: −|target − x| per step.
#[derive(Debug)]
struct PointMass {
    observation_space: Space,
    action_space: Space,
    layout: InfoLayout,
    x: f32,
    v: f32,
    target: f32,
    rng: Rng,
}

impl PointMass {
    fn new() -> Self {
        Self {
            observation_space: Space::Box(BoxSpace::from_bounds(
                vec![-1.0, -10.0, -2.0],
                vec![1.0, 10.0, 2.0],
            )),
            action_space: Space::Box(BoxSpace::from_bounds(vec![-1.0], vec![1.0])),
            layout: InfoLayout::new(&["distance"], &["distance"]),
            x: 0.0,
            v: 0.0,
            target: 0.0,
            rng: rng_from_seed(0),
        }
    }

    fn observe(&self, obs: &mut [f32], info: InfoMut<'_>) {
        let distance = (self.target - self.x).abs();
        obs.copy_from_slice(&[self.x, self.v, self.target - self.x]);
        *info.success = distance < TOLERANCE;
        info.reward_terms[0] = distance;
        info.metrics[0] = distance;
    }
}

impl Env for PointMass {
    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn info_layout(&self) -> &InfoLayout {
        &self.layout
    }

    fn reset(
        &mut self,
        seed: Option<u64>,
        obs: &mut [f32],
        mut info: InfoMut<'_>,
    ) -> Result<(), EnvError> {
        if let Some(seed) = seed {
            self.rng = rng_from_seed(seed);
        }
        self.x = self.rng.random_range(-0.8..0.8);
        self.target = self.rng.random_range(-0.8..0.8);
        self.v = 0.0;
        info.clear();
        self.observe(obs, info);
        Ok(())
    }

    fn step(&mut self, action: &[f32], out: StepOut<'_>) -> Result<(), EnvError> {
        self.v += action[0].clamp(-1.0, 1.0) * DT;
        self.x += self.v * DT;
        if self.x.abs() > 1.0 {
            // The rail's end stops the puck.
            (self.x, self.v) = (self.x.clamp(-1.0, 1.0), 0.0);
        }
        *out.reward = -(self.target - self.x).abs();
        (*out.terminated, *out.truncated) = (false, false);
        *out.info.episode = None;
        self.observe(out.obs, out.info);
        Ok(())
    }
}
