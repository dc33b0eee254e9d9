//! `rapt bench-update`: PPO updates timed on a synthetic rollout (`rapt_ppo::bench`).

use anyhow::{Result, bail};
use rapt_ppo::ActionHead;
use rapt_ppo::bench::UpdateBench;

use crate::cli::BenchUpdateArgs;

/// Time PPO updates on a random rollout of the requested size (CPU).
pub fn run(args: &BenchUpdateArgs) -> Result<()> {
    let image = match args.image.as_deref() {
        None => None,
        Some(&[c, h, w]) if c * h * w > 0 => Some([c, h, w]),
        Some(other) => bail!("--image {other:?}: give C,H,W, each at least 1"),
    };
    let report = UpdateBench {
        obs: args.obs,
        act: args.act,
        hidden: args.hidden.clone(),
        envs: args.envs,
        steps: args.steps,
        minibatch: args.minibatch,
        epochs: args.epochs,
        threads: args.threads,
        updates: args.updates,
        image,
        channels: args.channels.clone(),
        features: args.features,
        head: match args.head.as_str() {
            "beta" => ActionHead::Beta,
            _ => ActionHead::Gaussian,
        },
    }
    .run()?;
    match args.json {
        true => println!("{}", serde_json::to_string(&report)?),
        false => print!("{report}"),
    }
    Ok(())
}
