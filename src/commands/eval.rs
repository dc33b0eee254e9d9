use anyhow::{Result, bail};
use rapt_ppo::{EVAL_SEED_OFFSET, Evaluation};
use rapt_train::EvalRunOptions;
use serde::Serialize;

use crate::cli::EvalArgs;

/// `rapt eval --json`: the evaluation with what was evaluated.
#[derive(Serialize)]
struct EvalReport<'a> {
    env: &'a str,
    checkpoint: String,
    global_step: u64,
    /// `mean` (deterministic) or `sampled`.
    actions: &'static str,
    #[serde(flatten)]
    evaluation: &'a Evaluation,
    /// The CARLA leaderboard's three numbers at the top level, for driving envs.
    #[serde(flatten)]
    leaderboard: std::collections::BTreeMap<&'static str, f64>,
}

/// Evaluate a trained policy headlessly on held-out seeds.
pub fn run(args: &EvalArgs) -> Result<()> {
    let run = rapt_train::evaluate_run(
        &args.target,
        &EvalRunOptions {
            episodes: args.episodes as usize,
            seed: args.seed,
            stochastic: args.stochastic,
            env_set: args.env_set.clone(),
        },
    )?;
    let (cfg, checkpoint, progress, eval) =
        (&run.config, &run.checkpoint, run.progress, &run.evaluation);
    let params = cfg.env.params_text();
    if let Some(dir) = &args.record {
        let mut env = rapt_envs::registry().make(&cfg.env.id, params, cfg.env.max_episode_steps)?;
        let views: Vec<String> = env.views().iter().map(|v| v.to_string()).collect();
        if views.is_empty() {
            bail!("--record: `{}` has no camera views", cfg.env.id);
        }
        // The vector env seeds sub-env i with base + i: the first episodes of each.
        let n = args.record_episodes.min(args.episodes) as u64;
        let seeds: Vec<u64> = (0..n).map(|i| EVAL_SEED_OFFSET + args.seed + i).collect();
        let mut actor = rapt_ppo::Actor::Policy(Box::new(run.learner));
        super::render::record(&mut env, &mut actor, &views, args.record_size, &seeds, dir)?;
        eprintln!(
            "recorded {n} episode(s) from {} views into {}",
            views.len(),
            dir.display()
        );
    }
    let (lo, hi) = eval.success_ci95;
    if args.json {
        let report = EvalReport {
            env: &cfg.env.id,
            checkpoint: checkpoint.display().to_string(),
            global_step: progress.global_step,
            actions: if args.stochastic { "sampled" } else { "mean" },
            evaluation: eval,
            leaderboard: rapt_drive::LEADERBOARD_METRICS
                .iter()
                .filter_map(|&k| eval.metric(k).map(|v| (k, v)))
                .collect(),
        };
        println!("{}", serde_json::to_string(&report)?);
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
        print_metrics(eval);
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

/// The shaping return and every env metric of `eval`, one per line.
pub fn print_metrics(eval: &Evaluation) {
    if let Some(v) = eval.mean_shaping_return {
        println!("  {:<20} {v:.4}", "shaping_return");
    }
    for (name, value) in &eval.metrics {
        println!("  {name:<20} {value:.4}");
    }
}
