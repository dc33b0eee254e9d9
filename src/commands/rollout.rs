use anyhow::{Result, bail};
use rapt_core::{Env, EnvBuffers, rng_from_seed};

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
    let registry = crate::registry();
    let mut env = registry.make(&args.env, &args.params, None)?;
    let layout = env.info_layout().clone();
    let space = env.action_space().clone();
    let mut rng = rng_from_seed(args.seed ^ 0xAC7);
    let mut action = vec![0.0; space.flat_dim()];
    let mut buffers = EnvBuffers::new(&env);
    let phi_col = layout.metric_index("phi");
    let stage_col = layout.metric_index("stage");
    let mut episodes = Vec::new();
    for k in 0..args.episodes {
        let table = k == 0 && !args.quiet && !args.json;
        buffers.reset(&mut env, Some(args.seed + u64::from(k)))?;
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
        let mut ret = 0.0;
        let mut success_once = false;
        let mut t = 0u32;
        loop {
            t += 1;
            match args.policy {
                RolloutPolicy::Expert => {
                    if !env.expert_action(&mut action) {
                        bail!("`{}` has no scripted expert", args.env);
                    }
                }
                RolloutPolicy::Random => space.sample(&mut rng, &mut action),
            }
            let (reward, terminated, truncated) = buffers.step(&mut env, &action)?;
            let info = &buffers.info;
            ret += f64::from(reward);
            success_once |= info.success[0];
            if table {
                let m = info.metrics_of(0);
                let terms: Vec<String> =
                    info.terms(0).iter().map(|t| format!("{t:>8.4}")).collect();
                println!(
                    "{:>4} {:>6.3} {:>5} {:>8.4} {:>7}  {}",
                    t,
                    phi_col.map(|c| m[c]).unwrap_or(f32::NAN),
                    stage_col.map(|c| m[c] as i32).unwrap_or(-1),
                    reward,
                    info.success[0],
                    terms.join(" ")
                );
            }
            if terminated || truncated {
                let ep = info.episode[0].expect("episode statistics on the last step");
                episodes.push(Episode {
                    ret,
                    length: ep.length,
                    success_once,
                    success_at_end: info.success[0],
                    final_phi: phi_col.map(|c| info.metrics_of(0)[c]).unwrap_or(f32::NAN),
                    metrics: info.metrics_of(0).to_vec(),
                });
                break;
            }
        }
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
            "env": args.env,
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
            args.env,
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
