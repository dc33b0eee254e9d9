use std::time::Instant;

use anyhow::{Result, ensure};
use rand::Rng as _;
use rapt_core::rng_from_seed;
use rapt_ppo::{DeviceChoice, GaeParams, Learner, PpoConfig, RolloutBuffer};

use crate::cli::BenchUpdateArgs;

/// Time PPO updates on a random rollout of the requested size (CPU).
pub fn run(args: &BenchUpdateArgs) -> Result<()> {
    ensure!(
        args.envs * args.steps >= args.minibatch,
        "the batch must hold at least one minibatch"
    );
    rapt_ppo::configure_torch_threads(args.threads);
    let config = PpoConfig {
        num_steps: args.steps,
        num_minibatches: (args.envs * args.steps / args.minibatch).max(1),
        update_epochs: args.epochs,
        norm_obs: false,
        anneal_lr: false,
        hidden: args.hidden.clone(),
        ..PpoConfig::default()
    };
    let mut learner = Learner::new(
        rapt_ppo::ObsLayout::vector(args.obs),
        args.act,
        config,
        DeviceChoice::Cpu.resolve()?,
        1,
    )?;
    let batch = args.envs * args.steps;
    let mut rng = rng_from_seed(1);
    let mut normal =
        |k: usize| -> Vec<f32> { (0..k).map(|_| rng.random_range(-1.0f32..1.0)).collect() };
    let obs = normal(batch * args.obs);
    let (actions, logp, values) = learner.act(&obs);
    let mut rollout = RolloutBuffer::new(args.envs);
    rollout.obs = obs;
    rollout.actions = actions;
    rollout.logp = logp;
    rollout.values = values;
    rollout.rewards = normal(batch);
    rollout.terminated = (0..batch).map(|k| k % 50 == 49).collect();
    rollout.ended = rollout.terminated.clone();
    rollout.next_values = normal(batch);
    rollout.finish(&vec![0.0; args.envs], GaeParams::default());
    learner.update(&rollout, 0.0); // warm-up
    let start = Instant::now();
    for _ in 0..args.updates {
        learner.update(&rollout, 0.0);
    }
    let seconds = start.elapsed().as_secs_f64();
    let samples_per_s = (args.updates * args.epochs * batch) as f64 / seconds;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "threads": args.threads, "batch": batch, "minibatch": args.minibatch,
                "hidden": args.hidden, "seconds": seconds, "samples_per_s": samples_per_s,
            })
        );
    } else {
        println!(
            "PPO update: batch {batch}, minibatch {}, hidden {:?}, {} epochs, {} threads: {samples_per_s:.0} samples/s",
            args.minibatch, args.hidden, args.epochs, args.threads
        );
    }
    Ok(())
}
