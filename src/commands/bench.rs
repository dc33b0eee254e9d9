use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use rapt_core::{VecEnv, VecEnvOptions, rng_from_seed};
use tracing::info;

use crate::cli::BenchArgs;

/// Steps the env with uniformly random actions (resets included) and reports steps/s.
pub fn run(args: &BenchArgs) -> Result<()> {
    ensure!(
        args.seconds > 0.0,
        "--seconds must be > 0, got {}",
        args.seconds
    );
    let registry = rapt_envs::registry();
    let options = VecEnvOptions {
        num_envs: args.envs,
        threads: args.threads,
        max_episode_steps: args.max_episode_steps,
    };
    let mut venv = registry
        .make_vec(&args.env, "", &options)
        .with_context(|| format!("making {} × {}", args.envs, args.env))?;
    let threads = venv.threads();
    let space = venv.single_action_space().clone();
    let a = space.flat_dim();
    let n = venv.num_envs();
    let mut rng = rng_from_seed(args.seed);
    let mut actions = vec![0.0; n * a];
    venv.reset(Some(args.seed))?;
    let mut step = |venv: &mut rapt_core::ThreadedVecEnv| -> Result<usize> {
        for i in 0..n {
            space.sample(&mut rng, &mut actions[i * a..(i + 1) * a]);
        }
        let b = venv.step(&actions)?;
        Ok(b.ended.iter().filter(|e| **e).count())
    };
    let warmup = Instant::now();
    while warmup.elapsed() < Duration::from_millis(500) {
        step(&mut venv)?;
    }
    let bar = super::progress_bar(
        (args.seconds * 10.0) as u64,
        "{spinner} {elapsed_precise} [{bar:30}] {msg}",
        args.json,
    );
    let (start, budget) = (Instant::now(), Duration::from_secs_f64(args.seconds));
    let (mut steps, mut episodes, mut last_tick) = (0u64, 0usize, 0u64);
    while start.elapsed() < budget {
        episodes += step(&mut venv)?;
        steps += 1;
        let tick = (start.elapsed().as_secs_f64() * 10.0) as u64;
        if tick != last_tick {
            last_tick = tick;
            bar.set_position(tick);
            let sps = (steps * n as u64) as f64 / start.elapsed().as_secs_f64();
            bar.set_message(format!("{sps:.0} steps/s"));
        }
    }
    bar.finish_and_clear();
    let elapsed = start.elapsed().as_secs_f64();
    let env_steps = steps * n as u64;
    let sps = env_steps as f64 / elapsed;
    let per_core = sps / threads as f64;
    if args.json {
        let out = serde_json::json!({
            "env": args.env,
            "envs": n,
            "threads": threads,
            "seconds": elapsed,
            "env_steps": env_steps,
            "episodes": episodes,
            "sps": sps,
            "sps_per_core": per_core,
        });
        println!("{out}");
    } else {
        info!(env = %args.env, envs = n, threads, "benchmark done");
        println!(
            "{}: {n} envs on {threads} thread(s): {sps:.0} steps/s ({per_core:.0} per core), {env_steps} steps and {episodes} episodes in {elapsed:.2} s",
            args.env
        );
    }
    Ok(())
}
