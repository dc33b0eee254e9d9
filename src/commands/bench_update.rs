use anyhow::{Result, ensure};
use rapt_ppo::bench::{synthetic_rollout, update_throughput};
use rapt_ppo::{DeviceChoice, Learner, PpoConfig};

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
    let rollout = synthetic_rollout(&learner, args.envs, 1);
    let measured = update_throughput(&mut learner, &rollout, args.updates);
    let (seconds, samples_per_s) = (measured.seconds, measured.samples_per_s);
    let faults = measured.minor_faults_per_update;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "threads": args.threads, "batch": batch, "minibatch": args.minibatch,
                "hidden": args.hidden, "seconds": seconds, "samples_per_s": samples_per_s,
                "minor_faults_per_update": faults,
            })
        );
    } else {
        println!(
            "PPO update: batch {batch}, minibatch {}, hidden {:?}, {} epochs, {} threads: {samples_per_s:.0} samples/s, {} minor page faults per update",
            args.minibatch,
            args.hidden,
            args.epochs,
            args.threads,
            faults.map_or("?".into(), |f| format!("{f:.0}"))
        );
    }
    Ok(())
}
