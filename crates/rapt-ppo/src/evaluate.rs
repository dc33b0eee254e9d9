//! Headless evaluation of a policy on held-out seeds (SB3's `evaluate_policy`).

use rapt_core::{Batch, EpisodeTally, VecEnv, ordered_map};
use rapt_shaping::Shaper;
use serde::{Deserialize, Serialize};

use crate::{Learner, TrainError};

/// Seeds of evaluation episodes start here, far from the training seeds (`seed + i`).
pub const EVAL_SEED_OFFSET: u64 = 1_000_000_000;

/// How to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalOptions {
    /// Episodes to run (at least 1).
    pub episodes: usize,
    /// Sub-env `i` starts from seed `EVAL_SEED_OFFSET + base + i`.
    pub base: u64,
    /// Sample actions (`true`) or take the policy's mean (`false`, the default).
    pub stochastic: bool,
}

impl EvalOptions {
    /// `episodes` deterministic episodes from the first held-out seeds (`base` 0).
    pub fn episodes(episodes: usize) -> Self {
        Self {
            episodes,
            base: 0,
            stochastic: false,
        }
    }
}

/// What an evaluation measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Episodes run.
    pub episodes: usize,
    /// Fraction successful at the end of the episode.
    pub success_rate: f64,
    /// 95% Wilson score interval of `success_rate`.
    pub success_ci95: (f64, f64),
    /// Fraction successful at any step.
    pub success_once_rate: f64,
    /// Mean undiscounted return.
    pub mean_return: f64,
    /// Mean undiscounted sum of the shaping terms per episode, when the run is shaped
    /// (the env's reward is `mean_return`; the learner saw both).
    pub mean_shaping_return: Option<f64>,
    /// Mean episode length, steps.
    pub mean_length: f64,
    /// The env's metrics at the last step of each episode, averaged over episodes (or, for
    /// the ratios the env declares in its [`rapt_core::InfoLayout`], summed over all episodes and
    /// divided), by name, in the env's order.
    #[serde(with = "ordered_map")]
    pub metrics: Vec<(String, f64)>,
    /// Each episode, in the order they finished.
    pub per_episode: Vec<EpisodeRecord>,
}

impl Evaluation {
    /// The metric `name`, if the env reports it.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics.iter().find(|(n, _)| n == name).map(|m| m.1)
    }

    /// The headline in words: `N episodes, success S% (95% CI L–H%), success once O%,
    /// mean return R, mean length T`.
    pub fn summary(&self) -> String {
        let (lo, hi) = self.success_ci95;
        format!(
            "{} episodes, success {:.1}% (95% CI {:.1}–{:.1}%), success once {:.1}%, mean return {:.3}, mean length {:.1}",
            self.episodes,
            self.success_rate * 100.0,
            lo * 100.0,
            hi * 100.0,
            self.success_once_rate * 100.0,
            self.mean_return,
            self.mean_length
        )
    }

    /// The shaping return and every env metric, one `  name value` line each.
    pub fn metric_lines(&self) -> String {
        let shaping = self.mean_shaping_return.map(|v| ("shaping_return", v));
        let metrics = self.metrics.iter().map(|(n, v)| (n.as_str(), *v));
        shaping
            .into_iter()
            .chain(metrics)
            .map(|(name, value)| format!("  {name:<20} {value:.4}\n"))
            .collect()
    }

    /// One line per episode: env, index, return, length, success, success once, ended by.
    pub fn episode_table(&self) -> String {
        let mut out = format!(
            "{:>7} {:>4} {:>5} {:>10} {:>6} {:>8} {:>12} {:>10}\n",
            "episode", "env", "index", "return", "length", "success", "success once", "ended by"
        );
        for (k, e) in self.per_episode.iter().enumerate() {
            let ended = if e.terminated {
                "terminated"
            } else {
                "truncated"
            };
            out += &format!(
                "{k:>7} {:>4} {:>5} {:>10.3} {:>6} {:>8} {:>12} {ended:>10}\n",
                e.env, e.index, e.ret, e.length, e.success, e.success_once
            );
        }
        out
    }
}

/// One evaluated episode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpisodeRecord {
    /// Sub-env that ran it.
    pub env: usize,
    /// Its index among that sub-env's episodes (0: the one started from seed
    /// `EVAL_SEED_OFFSET + base + env`).
    pub index: u32,
    /// Undiscounted return.
    #[serde(rename = "return")]
    pub ret: f64,
    /// Steps.
    pub length: u32,
    /// Successful at the last step.
    pub success: bool,
    /// Successful at some step.
    pub success_once: bool,
    /// Ended by `terminated` (otherwise truncated).
    pub terminated: bool,
}

/// The 95% Wilson score interval of `k` successes in `n` trials.
pub fn wilson_interval(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (n, p, z) = (n as f64, k as f64 / n as f64, 1.959_964);
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// One state of an evaluation, as [`evaluate_policy_observed`]'s observer sees it: after
/// the reset (`step` 0) and after every step.
#[derive(Debug)]
pub struct EvalStep<'a> {
    /// The vector env's batch (with camera frames when it renders them).
    pub batch: &'a Batch,
    /// Steps taken so far.
    pub step: u32,
    /// Per sub-env, the index of the episode its row belongs to *before* this step's
    /// endings are counted: sub-env `i`'s episode `index[i]` (0: the one started from
    /// seed `EVAL_SEED_OFFSET + base + i`), which is the one that ended where
    /// `batch.ended[i]` (its last state in `batch.final_frames` / `final_obs`).
    pub index: &'a [u32],
    /// Per sub-env, how many of its episodes the evaluation counts: episode `j` of
    /// sub-env `i` is one of the evaluated episodes when `j < counted[i]`.
    pub counted: &'a [u32],
}

/// Run `options.episodes` episodes of `learner`'s policy on `venv`. Each sub-env runs a
/// fixed share of the episodes (as SB3's `evaluate_policy`), so short episodes are not
/// over-counted. With a `shaper` the shaping terms are summed too.
pub fn evaluate_policy(
    learner: &mut Learner,
    venv: &mut dyn VecEnv,
    options: EvalOptions,
    shaper: Option<&mut Shaper>,
) -> Result<Evaluation, TrainError> {
    evaluate_policy_observed(learner, venv, options, shaper, &mut |_| Ok(()))
}

/// [`evaluate_policy`], calling `observer` after the reset and after every step: the one
/// episode loop that evaluation and recording share (`rapt eval --record` records the
/// episodes it evaluates this way).
pub fn evaluate_policy_observed(
    learner: &mut Learner,
    venv: &mut dyn VecEnv,
    options: EvalOptions,
    mut shaper: Option<&mut Shaper>,
    observer: &mut dyn FnMut(EvalStep<'_>) -> Result<(), TrainError>,
) -> Result<Evaluation, TrainError> {
    let episodes = options.episodes;
    if episodes == 0 {
        return Err(TrainError::Invalid(
            "an evaluation needs at least 1 episode".into(),
        ));
    }
    let space = learner.check_fits(venv)?;
    let n = venv.num_envs();
    let targets: Vec<u32> = (0..n).map(|i| ((episodes + i) / n) as u32).collect();
    let mut counts = vec![0u32; n];
    let first = venv.reset(Some(EVAL_SEED_OFFSET + options.base))?;
    if let Some(s) = shaper.as_deref_mut() {
        s.reset(first)?;
    }
    let mut index = vec![0u32; n];
    observer(EvalStep {
        batch: first,
        step: 0,
        index: &index,
        counted: &targets,
    })?;
    let mut step = 0u32;
    let mut obs = first.obs.clone();
    // The shaping terms summed along each running episode, and over finished ones.
    let mut shaping_sum = vec![0.0f64; n];
    let mut shaping_total = 0.0f64;
    let mut shaped = Vec::new();
    let mut finished: Vec<EpisodeRecord> = Vec::with_capacity(episodes);
    let layout = venv.info_layout().clone();
    let mut tally = EpisodeTally::default();
    let mut env_actions = vec![0.0; n * space.env_dim()];
    while finished.len() < episodes {
        learner.policy_env_actions(&mut obs, &space, options.stochastic, &mut env_actions);
        let b = venv.step(&env_actions)?;
        step += 1;
        observer(EvalStep {
            batch: b,
            step,
            index: &index,
            counted: &targets,
        })?;
        if let Some(s) = shaper.as_deref_mut() {
            shaped.clear();
            shaped.extend_from_slice(&b.rewards);
            s.apply(b, &mut shaped, 0)?;
            s.finish(&mut shaped)?;
            for i in 0..n {
                shaping_sum[i] += f64::from(shaped[i] - b.rewards[i]);
            }
        }
        for i in 0..n {
            let counted = b.ended[i] && counts[i] < targets[i];
            if b.ended[i] {
                index[i] += 1;
                if counted {
                    shaping_total += shaping_sum[i];
                }
                shaping_sum[i] = 0.0;
            }
            if counted && let Some(ep) = b.final_info.episode[i] {
                finished.push(EpisodeRecord {
                    env: i,
                    index: counts[i],
                    ret: ep.ret,
                    length: ep.length,
                    success: ep.success_at_end,
                    success_once: ep.success_once,
                    terminated: ep.terminated,
                });
                counts[i] += 1;
                tally.add(&ep, b.final_info.metrics_of(i));
            }
        }
        obs.copy_from_slice(&b.obs);
    }
    let summary = tally.summary(&layout);
    Ok(Evaluation {
        episodes,
        success_rate: summary.success_rate,
        success_ci95: wilson_interval(tally.successes(), episodes),
        success_once_rate: summary.success_once_rate,
        mean_return: summary.mean_return,
        mean_length: summary.mean_length,
        mean_shaping_return: shaper.is_some().then_some(shaping_total / episodes as f64),
        metrics: summary.metrics,
        per_episode: finished,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_matches_known_values() {
        let (lo, hi) = wilson_interval(190, 200);
        assert!(
            (lo - 0.9103).abs() < 1e-3 && (hi - 0.9727).abs() < 1e-3,
            "{lo} {hi}"
        );
        assert_eq!(wilson_interval(0, 0), (0.0, 1.0));
    }
}
