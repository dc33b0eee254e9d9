use anyhow::Result;
use rapt_ppo::Evaluation;
use rapt_train::{EvalRunOptions, RecordOptions};
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
    /// The env's headline metrics at the top level (for driving envs, the CARLA
    /// leaderboard's three numbers).
    #[serde(flatten)]
    headline: std::collections::BTreeMap<&'a str, f64>,
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
            shaping: args.shaping,
            record: args.record.as_ref().map(|out| RecordOptions {
                out: out.clone(),
                episodes: args.record_episodes as usize,
                size: args.record_size,
            }),
        },
    )?;
    let (cfg, checkpoint, progress, eval) =
        (&run.config, &run.checkpoint, run.progress, &run.evaluation);
    if let (Some(r), Some(dir)) = (&run.recording, &args.record) {
        for gif in &r.gifs {
            eprintln!("{}", gif.display());
        }
        eprintln!(
            "recorded {} episode(s) from {} views into {}",
            r.episodes.len(),
            r.views.len(),
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
            headline: run.headline.iter().map(|(k, v)| (k.as_str(), *v)).collect(),
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
