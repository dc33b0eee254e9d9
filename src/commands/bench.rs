//! `rapt bench`: env steps per second under random actions.

use anyhow::{Context, Result};
use rapt_core::VecEnvOptions;
use rapt_core::bench::random_action_throughput;
use tracing::info;

use crate::cli::BenchArgs;

/// Steps the env with uniformly random actions (resets included) and reports steps/s.
pub fn run(args: &BenchArgs) -> Result<()> {
    let options = VecEnvOptions {
        num_envs: args.envs,
        threads: args.threads,
        max_episode_steps: args.max_episode_steps,
    };
    let mut venv = rapt_registry::registry()
        .make_vec(&args.env, &args.params, &options)
        .with_context(|| format!("making {} × {}", args.envs, args.env))?;
    let threads = venv.threads();
    let bar = rapt_rundir::progress_bar(
        (args.seconds.max(0.0) * 10.0) as u64,
        "{spinner} {elapsed_precise} [{bar:30}] {msg}",
        args.json,
    );
    let t = random_action_throughput(&mut venv, args.seconds, args.seed, |elapsed, sps| {
        bar.set_position((elapsed * 10.0) as u64);
        bar.set_message(format!("{sps:.0} steps/s"));
    })
    .context("--seconds")?;
    bar.finish_and_clear();
    let per_core = t.sps / threads as f64;
    if args.json {
        let mut report = serde_json::to_value(t)?;
        report["env"] = args.env.clone().into();
        report["threads"] = threads.into();
        report["sps_per_core"] = per_core.into();
        println!("{report}");
    } else {
        info!(env = %args.env, envs = t.envs, threads, "benchmark done");
        println!(
            "{}: {} envs on {threads} thread(s): {:.0} steps/s ({per_core:.0} per core), {} steps and {} episodes in {:.2} s",
            args.env, t.envs, t.sps, t.env_steps, t.episodes, t.seconds
        );
    }
    Ok(())
}
