use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rapt_core::VecEnvOptions;
use rapt_ppo::Learner;

use super::ppo::{evaluate, wilson_interval};
use crate::cli::EvalArgs;

/// Evaluate a trained policy headlessly on held-out seeds.
pub fn run(args: &EvalArgs) -> Result<()> {
    if args.episodes == 0 {
        bail!("--episodes must be at least 1");
    }
    let (run_dir, checkpoint) = locate(&args.target)?;
    let loaded = crate::config::load(&run_dir.join("config.ron"), &[])
        .with_context(|| format!("reading the run's config in {}", run_dir.display()))?;
    let mut cfg = loaded.config;
    let params = if args.env_set.is_empty() {
        cfg.env.params_text().to_string()
    } else {
        // `--env-set k=v` edits the env's parameters like `--set env.params.k=v`.
        let sets: Vec<String> = args
            .env_set
            .iter()
            .map(|s| format!("env.params.{s}"))
            .collect();
        let again = crate::config::load(&run_dir.join("config.ron"), &sets)?;
        cfg = again.config;
        cfg.env.params_text().to_string()
    };
    let device = cfg.device.resolve()?;
    let (mut learner, progress) = Learner::load_checkpoint(&checkpoint, device)?;
    let registry = crate::registry();
    let options = VecEnvOptions {
        num_envs: cfg.env.num_envs.min(args.episodes as usize),
        threads: cfg
            .env
            .threads
            .min(cfg.env.num_envs.min(args.episodes as usize)),
        max_episode_steps: cfg.env.max_episode_steps,
    };
    let mut venv = registry.make_vec(&cfg.env.id, &params, &options)?;
    let mut shaper = super::ppo::make_shaper(&cfg, &mut venv)?;
    let eval = evaluate(
        &mut learner,
        &mut venv,
        args.episodes as usize,
        args.seed,
        args.stochastic,
        shaper.as_mut(),
    )?;
    if let Some(dir) = &args.record {
        let mut env = registry.make(&cfg.env.id, &params, cfg.env.max_episode_steps)?;
        let views: Vec<String> = env.views().iter().map(|v| v.to_string()).collect();
        if views.is_empty() {
            bail!("--record: `{}` has no camera views", cfg.env.id);
        }
        // The vector env seeds sub-env i with base + i: the first episodes of each.
        let n = args.record_episodes.min(args.episodes) as u64;
        let seeds: Vec<u64> = (0..n)
            .map(|i| super::ppo::EVAL_SEED_OFFSET + args.seed + i)
            .collect();
        let (policy, _) = Learner::load_checkpoint(&checkpoint, device)?;
        let mut actor = super::render::Actor::Policy(Box::new(policy));
        super::render::record(&mut env, &mut actor, &views, args.record_size, &seeds, dir)?;
        eprintln!(
            "recorded {n} episode(s) from {} views into {}",
            views.len(),
            dir.display()
        );
    }
    let k = (eval.success_rate * eval.episodes as f64).round() as usize;
    let (lo, hi) = wilson_interval(k, eval.episodes);
    if args.json {
        let metrics: serde_json::Map<String, serde_json::Value> = eval
            .metrics
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::json!(v)))
            .collect();
        let mut out = serde_json::json!({
            "env": cfg.env.id,
            "checkpoint": checkpoint.display().to_string(),
            "global_step": progress.global_step,
            "episodes": eval.episodes,
            "success_rate": eval.success_rate,
            "success_ci95": [lo, hi],
            "success_once_rate": eval.success_once_rate,
            "mean_return": eval.mean_return,
            "mean_shaping_return": eval.mean_shaping_return,
            "mean_length": eval.mean_length,
            "metrics": metrics,
            "actions": if args.stochastic { "sampled" } else { "mean" },
            "per_episode": eval.per_episode,
        });
        // Driving envs: the leaderboard's three numbers at the top level (route completion
        // and driving score 0–100, infraction score 0–1, as the CARLA leaderboard reports).
        for key in ["route_completion", "infraction_score", "driving_score"] {
            if let Some((_, v)) = eval.metrics.iter().find(|(n, _)| n == key) {
                out[key] = serde_json::json!(v);
            }
        }
        println!("{out}");
    } else {
        println!(
            "{} ({}, {} training steps): {} episodes, success {:.1}% (95% CI {:.1}–{:.1}%), success once {:.1}%, mean return {:.3}, mean length {:.1}",
            cfg.env.id,
            checkpoint.display(),
            progress.global_step,
            eval.episodes,
            eval.success_rate * 100.0,
            lo * 100.0,
            hi * 100.0,
            eval.success_once_rate * 100.0,
            eval.mean_return,
            eval.mean_length
        );
        if let Some(v) = eval.mean_shaping_return {
            println!("  {:<20} {v:.4}", "shaping_return");
        }
        for (name, value) in &eval.metrics {
            println!("  {name:<20} {value:.4}");
        }
        println!(
            "\n{:>7} {:>4} {:>5} {:>10} {:>6} {:>8} {:>12} {:>10}",
            "episode", "env", "index", "return", "length", "success", "success once", "ended by"
        );
        for (k, e) in eval.per_episode.iter().enumerate() {
            println!(
                "{k:>7} {:>4} {:>5} {:>10.3} {:>6} {:>8} {:>12} {:>10}",
                e.env,
                e.index,
                e.ret,
                e.length,
                e.success,
                e.success_once,
                if e.terminated {
                    "terminated"
                } else {
                    "truncated"
                }
            );
        }
    }
    Ok(())
}

/// A run directory (newest checkpoint) or a checkpoint directory inside one.
fn locate(target: &Path) -> Result<(PathBuf, PathBuf)> {
    if target.join("config.ron").exists() {
        let checkpoint = rapt_ppo::latest_checkpoint(&target.join("checkpoints"))
            .with_context(|| format!("no checkpoint in {}/checkpoints", target.display()))?;
        return Ok((target.to_path_buf(), checkpoint));
    }
    let run_dir = target
        .parent()
        .and_then(Path::parent)
        .filter(|d| d.join("config.ron").exists())
        .with_context(|| {
            format!(
                "{} is neither a run directory (with config.ron) nor a checkpoint inside one",
                target.display()
            )
        })?;
    Ok((run_dir.to_path_buf(), target.to_path_buf()))
}
