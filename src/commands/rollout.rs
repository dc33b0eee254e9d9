use anyhow::{Context, Result, bail};
use rapt_core::rng_from_seed;
use rapt_ppo::{Actor, run_episode};

use crate::cli::{RolloutArgs, RolloutPolicy};

/// What one episode came to.
struct Episode {
    ret: f64,
    length: u32,
    success_once: bool,
    success_at_end: bool,
    final_phi: f32,
    metrics: Vec<f32>,
}

pub fn run(args: &RolloutArgs) -> Result<()> {
    if args.episodes == 0 {
        bail!("--episodes must be at least 1");
    }
    let mut env = rapt_envs::registry().make(&args.env.env, &args.env.params, None)?;
    let layout = env.info_layout().clone();
    let mut rng = rng_from_seed(args.env.seed ^ 0xAC7);
    let mut actor = match args.policy {
        RolloutPolicy::Expert => Actor::Expert,
        RolloutPolicy::Random => Actor::Random,
    };
    let phi_col = layout.metric_index("phi");
    let stage_col = layout.metric_index("stage");
    let mut episodes = Vec::new();
    for k in 0..args.episodes {
        let table = k == 0 && !args.quiet && !args.json;
        if table {
            println!(
                "{:>4} {:>6} {:>5} {:>8} {:>7}  {}",
                "step",
                "phi",
                "stage",
                "reward",
                "success",
                layout.reward_terms.join("  ")
            );
        }
        let mut last = (f32::NAN, Vec::new());
        let stats = run_episode(
            &mut env,
            &mut actor,
            args.env.seed + u64::from(k),
            &mut rng,
            |s| {
                let (info, m) = (&s.buffers.info, s.buffers.info.metrics_of(0));
                last = (phi_col.map(|c| m[c]).unwrap_or(f32::NAN), m.to_vec());
                if table && s.step > 0 {
                    let terms: Vec<String> =
                        info.terms(0).iter().map(|t| format!("{t:>8.4}")).collect();
                    println!(
                        "{:>4} {:>6.3} {:>5} {:>8.4} {:>7}  {}",
                        s.step,
                        last.0,
                        stage_col.map(|c| m[c] as i32).unwrap_or(-1),
                        s.buffers.reward,
                        info.success[0],
                        terms.join(" ")
                    );
                }
                Ok(())
            },
        )
        .with_context(|| format!("`{}`", args.env.env))?;
        episodes.push(Episode {
            ret: stats.ret,
            length: stats.length,
            success_once: stats.success_once,
            success_at_end: stats.success_at_end,
            final_phi: last.0,
            metrics: last.1,
        });
    }
    let n = episodes.len() as f64;
    let rate = |f: &dyn Fn(&Episode) -> bool| episodes.iter().filter(|e| f(e)).count() as f64 / n;
    let success = rate(&|e| e.success_at_end);
    let success_once = rate(&|e| e.success_once);
    let mean_return = episodes.iter().map(|e| e.ret).sum::<f64>() / n;
    let mean_length = episodes.iter().map(|e| f64::from(e.length)).sum::<f64>() / n;
    let mean_phi = episodes.iter().map(|e| f64::from(e.final_phi)).sum::<f64>() / n;
    // The env's metrics at the end of each episode, averaged.
    let sums: Vec<f64> = (0..layout.metrics.len())
        .map(|k| episodes.iter().map(|e| f64::from(e.metrics[k])).sum())
        .collect();
    let metric_means = layout.aggregate_episodes(&sums, n);
    if args.json {
        let out = serde_json::json!({
            "env": args.env.env,
            "policy": format!("{:?}", args.policy).to_lowercase(),
            "episodes": episodes.len(),
            "success_rate": success,
            "success_once_rate": success_once,
            "mean_return": mean_return,
            "mean_length": mean_length,
            "mean_final_phi": mean_phi,
            "metrics": metric_means
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::json!(v)))
                .collect::<serde_json::Map<String, serde_json::Value>>(),
        });
        println!("{out}");
    } else {
        println!(
            "{} {:?}: {} episodes, success at end {:.1}%, success once {:.1}%, mean return {:.3}, mean length {:.1}, mean final phi {:.3}",
            args.env.env,
            args.policy,
            episodes.len(),
            success * 100.0,
            success_once * 100.0,
            mean_return,
            mean_length,
            mean_phi
        );
        for (name, value) in &metric_means {
            println!("  {name:<20} {value:.4}");
        }
    }
    Ok(())
}
