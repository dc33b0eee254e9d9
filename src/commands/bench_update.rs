use anyhow::{Result, ensure};
use rapt_ppo::bench::{synthetic_rollout, update_throughput};
use rapt_ppo::{ActionHead, DeviceChoice, Encoder, Learner, PpoConfig};

use crate::cli::BenchUpdateArgs;

/// Time PPO updates on a random rollout of the requested size (CPU).
pub fn run(args: &BenchUpdateArgs) -> Result<()> {
    ensure!(
        args.envs * args.steps >= args.minibatch,
        "the batch must hold at least one minibatch"
    );
    rapt_ppo::configure_torch_threads(args.threads);
    let image = match args.image.as_deref() {
        None => None,
        Some(&[c, h, w]) if c * h * w > 0 => Some([c, h, w]),
        Some(other) => anyhow::bail!("--image {other:?}: give C,H,W, each at least 1"),
    };
    let layout = rapt_ppo::ObsLayout {
        dim: image.map_or(0, |[c, h, w]| c * h * w) + args.obs,
        image,
    };
    let config = PpoConfig {
        num_steps: args.steps,
        num_minibatches: (args.envs * args.steps / args.minibatch).max(1),
        update_epochs: args.epochs,
        norm_obs: false,
        anneal_lr: false,
        hidden: args.hidden.clone(),
        encoder: match image {
            Some(_) => Encoder::Cnn {
                channels: args.channels.clone(),
                features: args.features,
            },
            None => Encoder::Mlp,
        },
        action_head: match args.head.as_str() {
            "beta" => ActionHead::Beta,
            _ => ActionHead::Gaussian,
        },
        ..PpoConfig::default()
    };
    let mut learner = Learner::new(layout, args.act, config, DeviceChoice::Cpu.resolve()?, 1)?;
    let batch = args.envs * args.steps;
    let rollout = synthetic_rollout(&mut learner, args.envs, 1);
    let measured = update_throughput(&mut learner, &rollout, args.updates);
    let (seconds, samples_per_s) = (measured.seconds, measured.samples_per_s);
    let faults = measured.minor_faults_per_update;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "threads": args.threads, "batch": batch, "minibatch": args.minibatch,
                "hidden": args.hidden, "image": image, "head": args.head,
                "seconds": seconds, "samples_per_s": samples_per_s,
                "minor_faults_per_update": faults,
            })
        );
    } else {
        println!(
            "PPO update: batch {batch}, minibatch {}, {}hidden {:?}, {} epochs, {} threads: {samples_per_s:.0} samples/s, {} minor page faults per update",
            args.minibatch,
            image.map_or(String::new(), |i| format!(
                "image {i:?} + {} values, CNN, ",
                args.obs
            )),
            args.hidden,
            args.epochs,
            args.threads,
            faults.map_or("?".into(), |f| format!("{f:.0}"))
        );
    }
    Ok(())
}
