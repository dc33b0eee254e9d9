use anyhow::{Context, Result};
use rapt_core::{EpisodeSummary, EpisodeTally, EpisodeTrace, rng_from_seed};
use rapt_ppo::{Actor, run_episode};

use crate::cli::{RolloutArgs, RolloutPolicy};

/// `rapt rollout --json`.
#[derive(serde::Serialize)]
struct Report<'a> {
    env: &'a str,
    policy: String,
    #[serde(flatten)]
    summary: EpisodeSummary,
    mean_final_phi: f64,
}

/// `rapt rollout --trace FILE`.
#[derive(serde::Serialize)]
struct TraceFile<'a> {
    env: &'a str,
    params: &'a str,
    episodes: Vec<EpisodeTrace>,
}

pub fn run(args: &RolloutArgs) -> Result<()> {
    let mut env = rapt_envs::registry().make(&args.env.env, &args.env.params, None)?;
    let layout = env.info_layout().clone();
    let mut rng = rng_from_seed(args.env.seed ^ 0xAC7);
    let mut actor = match args.policy {
        RolloutPolicy::Expert => Actor::Expert,
        RolloutPolicy::Random => Actor::Random,
    };
    let phi_col = layout.metric_index("phi");
    let stage_col = layout.metric_index("stage");
    let (mut tally, mut phi_sum) = (EpisodeTally::default(), 0.0f64);
    let mut traces = Vec::new();
    for k in 0..args.episodes {
        let seed = args.env.seed + u64::from(k);
        let mut trace = args.trace.as_ref().map(|_| EpisodeTrace::new(seed));
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
        let stats = run_episode(&mut env, &mut actor, seed, &mut rng, |s| {
            if let Some(t) = trace.as_mut() {
                t.record(s.action, s.buffers);
            }
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
        })
        .with_context(|| format!("`{}`", args.env.env))?;
        traces.extend(trace);
        tally.add(&stats, &last.1);
        phi_sum += f64::from(last.0);
    }
    if let Some(path) = &args.trace {
        let file = TraceFile {
            env: &args.env.env,
            params: &args.env.params,
            episodes: traces,
        };
        rapt_run::write_atomic(path, &serde_json::to_vec(&file)?)
            .with_context(|| format!("writing the trace {}", path.display()))?;
    }
    let s = tally.summary(&layout);
    let mean_phi = phi_sum / s.episodes as f64;
    if args.json {
        let policy = format!("{:?}", args.policy).to_lowercase();
        let (env, mean_final_phi) = (args.env.env.as_str(), mean_phi);
        let report = Report {
            env,
            policy,
            summary: s,
            mean_final_phi,
        };
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} {:?}: {} episodes, success at end {:.1}%, success once {:.1}%, mean return {:.3}, mean length {:.1}, mean final phi {:.3}",
            args.env.env,
            args.policy,
            s.episodes,
            s.success_rate * 100.0,
            s.success_once_rate * 100.0,
            s.mean_return,
            s.mean_length,
            mean_phi
        );
        for (name, value) in &s.metrics {
            println!("  {name:<20} {value:.4}");
        }
    }
    Ok(())
}
