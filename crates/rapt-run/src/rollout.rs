//! Episodes of a registered env with the scripted expert or random actions, summarized
//! (`rapt rollout`): success, return, length, the env's metrics and its final Φ, an
//! optional per-step table of the first episode, and an optional trace of every action
//! and observation for checking another front end against (the Python package's tests).

use std::path::Path;

use rapt_core::{EpisodeSummary, EpisodeTally, EpisodeTrace, rng_from_seed};
use rapt_ppo::{Actor, run_episode};
use serde::Serialize;

use crate::RunError;

/// What `rollout` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutOptions {
    /// The env id.
    pub env: String,
    /// Its parameters (RON).
    pub params: String,
    /// Episode `k` resets with seed `seed + k`.
    pub seed: u64,
    /// Episodes (at least 1).
    pub episodes: u32,
    /// The scripted expert (`true`) or uniformly random actions.
    pub expert: bool,
}

/// What a rollout measured.
#[derive(Debug, Clone, Serialize)]
pub struct Rollout {
    /// The env id.
    pub env: String,
    /// `expert` or `random`.
    pub policy: String,
    /// Success, return, length and the env's metrics.
    #[serde(flatten)]
    pub summary: EpisodeSummary,
    /// Mean Φ at the episodes' last steps (NaN for envs without `phi`).
    pub mean_final_phi: f64,
    /// Every step of every episode, when asked for.
    #[serde(skip)]
    pub traces: Vec<EpisodeTrace>,
}

impl std::fmt::Display for Rollout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.summary;
        writeln!(
            f,
            "{} {}: {} episodes, success at end {:.1}%, success once {:.1}%, mean return {:.3}, mean length {:.1}, mean final phi {:.3}",
            self.env,
            self.policy,
            s.episodes,
            s.success_rate * 100.0,
            s.success_once_rate * 100.0,
            s.mean_return,
            s.mean_length,
            self.mean_final_phi
        )?;
        for (name, value) in &s.metrics {
            writeln!(f, "  {name:<20} {value:.4}")?;
        }
        Ok(())
    }
}

/// Run the episodes `options` names, keeping every step when `trace`, and handing the
/// first episode's per-step table to `table` line by line (step, Φ, stage, reward,
/// success and the env's reward terms).
pub fn rollout(
    options: &RolloutOptions,
    trace: bool,
    table: &mut dyn FnMut(&str),
) -> Result<Rollout, RunError> {
    if options.episodes == 0 {
        return Err(RunError::Invalid(
            "a rollout needs at least 1 episode".into(),
        ));
    }
    let mut env = rapt_registry::registry().make(&options.env, &options.params, None)?;
    let layout = env.info_layout().clone();
    let mut rng = rng_from_seed(options.seed ^ 0xAC7);
    let mut actor = if options.expert {
        Actor::Expert
    } else {
        Actor::Random
    };
    let (phi_col, stage_col) = (layout.metric_index("phi"), layout.metric_index("stage"));
    let (mut tally, mut phi_sum, mut traces) = (EpisodeTally::default(), 0.0f64, Vec::new());
    for k in 0..options.episodes {
        let seed = options.seed + u64::from(k);
        let mut episode = trace.then(|| EpisodeTrace::new(seed));
        if k == 0 {
            let terms = layout.reward_terms.join("  ");
            table(&format!(
                "{:>4} {:>6} {:>5} {:>8} {:>7}  {terms}",
                "step", "phi", "stage", "reward", "success"
            ));
        }
        let mut last = (f32::NAN, Vec::new());
        let stats = run_episode(&mut env, &mut actor, seed, &mut rng, |s| {
            if let Some(t) = episode.as_mut() {
                t.record(s.action, s.buffers);
            }
            let (info, m) = (&s.buffers.info, s.buffers.info.metrics_of(0));
            last = (phi_col.map_or(f32::NAN, |c| m[c]), m.to_vec());
            if k == 0 && s.step > 0 {
                let terms: Vec<String> =
                    info.terms(0).iter().map(|t| format!("{t:>8.4}")).collect();
                table(&format!(
                    "{:>4} {:>6.3} {:>5} {:>8.4} {:>7}  {}",
                    s.step,
                    last.0,
                    stage_col.map_or(-1, |c| m[c] as i32),
                    s.buffers.reward,
                    info.success[0],
                    terms.join(" ")
                ));
            }
            Ok(())
        })
        .map_err(|e| RunError::Invalid(format!("`{}`: {e}", options.env)))?;
        traces.extend(episode);
        tally.add(&stats, &last.1);
        phi_sum += f64::from(last.0);
    }
    let summary = tally.summary(&layout);
    let mean_final_phi = phi_sum / summary.episodes as f64;
    Ok(Rollout {
        env: options.env.clone(),
        policy: if options.expert { "expert" } else { "random" }.into(),
        summary,
        mean_final_phi,
        traces,
    })
}

/// Write `rollout`'s traces to `path` as JSON (`{env, params, episodes: [{seed, actions,
/// obs, rewards, terminated, truncated}]}`), atomically.
pub fn write_trace(rollout: &Rollout, params: &str, path: &Path) -> Result<(), RunError> {
    #[derive(Serialize)]
    struct TraceFile<'a> {
        env: &'a str,
        params: &'a str,
        episodes: &'a [EpisodeTrace],
    }
    let file = TraceFile {
        env: &rollout.env,
        params,
        episodes: &rollout.traces,
    };
    let json = serde_json::to_vec(&file)
        .map_err(|e| RunError::Invalid(format!("serializing the trace: {e}")))?;
    rapt_rundir::write_atomic(path, &json)
        .map_err(|e| RunError::Invalid(format!("writing the trace {}: {e}", path.display())))
}
