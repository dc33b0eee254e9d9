//! Evaluating a saved run.

use std::path::{Path, PathBuf};

use rapt_core::VecEnv;
use rapt_ppo::{
    EVAL_SEED_OFFSET, EvalOptions, Evaluation, Learner, Progress, evaluate_policy,
    evaluate_policy_observed,
};

use crate::prepare::ModelCache;
use crate::recording::{EvalRecorder, Recording};
use crate::{RunConfig, RunError, config};

/// How to evaluate a saved run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvalRunOptions {
    /// Episodes (at least 1).
    pub episodes: usize,
    /// Held-out seed offset: sub-env `i` starts from `EVAL_SEED_OFFSET + seed + i`.
    pub seed: u64,
    /// Sample actions instead of taking the policy's mean.
    pub stochastic: bool,
    /// Edits of the env's parameters, `key=value` as `--set env.params.key=value`.
    pub env_set: Vec<String>,
    /// Also report the shaping terms of a shaped run (`mean_shaping_return`): loads its
    /// progress model, or contacts its reward server. Off by default, so a run shaped
    /// through a server evaluates while the server is down.
    pub shaping: bool,
    /// Also record the first evaluated episodes' camera views.
    pub record: Option<RecordOptions>,
    /// Evaluate in this env id instead of the run's own (same observation and action
    /// spaces; the run's env parameters apply to it), e.g. a policy trained on
    /// `DriveTown01-v0` in `DriveTown02-v0`. `None`: the run's.
    pub env: Option<String>,
}

/// What of an evaluation to record ([`EvalRunOptions::record`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOptions {
    /// The directory: PNG frames and a GIF per view, `episodes.json`.
    pub out: PathBuf,
    /// Episodes to record: the first evaluated ones in seed order.
    pub episodes: usize,
    /// Frame size, px.
    pub size: usize,
}

/// A saved run evaluated.
#[derive(Debug)]
pub struct EvalRun {
    /// The run's config (with `env_set` applied, and `env.id` the env evaluated in).
    pub config: RunConfig,
    /// The run directory.
    pub run_dir: PathBuf,
    /// The checkpoint evaluated.
    pub checkpoint: PathBuf,
    /// Its counters.
    pub progress: Progress,
    /// The policy evaluated (for rendering its episodes, say).
    pub learner: Learner,
    /// What it measured.
    pub evaluation: Evaluation,
    /// What was recorded, with [`EvalRunOptions::record`].
    pub recording: Option<Recording>,
    /// The env's headline metrics ([`rapt_core::InfoLayout::headline`]; for driving,
    /// the CARLA leaderboard's three numbers), by name.
    pub headline: Vec<(String, f64)>,
    /// Whether actions were sampled rather than the policy's mean.
    pub stochastic: bool,
}

impl EvalRun {
    /// What `rapt eval --json` prints: the evaluation, what was evaluated, and the env's
    /// headline metrics at the top level (for driving, the CARLA leaderboard's three).
    pub fn json(&self) -> serde_json::Value {
        let mut report = serde_json::json!({
            "env": self.config.env.id,
            "checkpoint": self.checkpoint.display().to_string(),
            "global_step": self.progress.global_step,
            "actions": if self.stochastic { "sampled" } else { "mean" },
        });
        if let Some(out) = report.as_object_mut() {
            if let Ok(serde_json::Value::Object(eval)) = serde_json::to_value(&self.evaluation) {
                out.extend(eval);
            }
            for (name, value) in &self.headline {
                out.insert(name.clone(), (*value).into());
            }
        }
        report
    }
}

impl std::fmt::Display for EvalRun {
    /// The summary line, the metrics and the per-episode table.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = &self.evaluation;
        writeln!(
            f,
            "{} ({}, {} training steps): {}",
            self.config.env.id,
            self.checkpoint.display(),
            self.progress.global_step,
            e.summary()
        )?;
        write!(f, "{}\n{}", e.metric_lines(), e.episode_table())
    }
}

/// Evaluate the newest checkpoint of the run directory `target` (or the checkpoint
/// `target` inside a run) in the env its saved config names, reporting the shaping
/// terms when the run was shaped and [`EvalRunOptions::shaping`] asks for them.
pub fn evaluate_run(target: &Path, options: &EvalRunOptions) -> Result<EvalRun, RunError> {
    if options.episodes == 0 {
        return Err(RunError::Invalid("--episodes must be at least 1".into()));
    }
    let (run_dir, checkpoint) =
        rapt_rundir::locate_checkpoint(target, rapt_rundir::CheckpointDir::updates)?;
    let sets: Vec<String> = options
        .env_set
        .iter()
        .map(|s| format!("env.params.{s}"))
        .collect();
    let mut cfg = config::load(&run_dir.join("config.ron"), &sets)
        .map_err(|e| {
            e.relabel_overrides(|set| {
                let edit = set.strip_prefix("env.params.")?;
                Some(format!("--env-set {edit}"))
            })
        })?
        .config;
    // The policy's fit to the env is checked where it first meets it, naming both.
    if let Some(id) = &options.env {
        cfg.env.id = id.clone();
    }
    let device = cfg.device.resolve()?;
    let (mut learner, progress) = Learner::load_checkpoint(&checkpoint, device)?;
    // As many sub-envs as the run's own evaluations: the same seeds give the same episodes.
    let options_of_run = crate::prepare::vec_options(&cfg, crate::prepare::eval_envs(&cfg));
    let mut venv =
        rapt_registry::registry().make_vec(&cfg.env.id, cfg.env.params_text(), &options_of_run)?;
    let mut shaper = match options.shaping {
        true => ModelCache::new(&cfg, device).shaper(&mut venv)?,
        false => None,
    };
    let headline = venv.info_layout().headline.clone();
    let eval_options = EvalOptions {
        episodes: options.episodes,
        base: options.seed,
        stochastic: options.stochastic,
    };
    let (evaluation, recording) = match &options.record {
        None => {
            let e = evaluate_policy(&mut learner, &mut venv, eval_options, shaper.as_mut())?;
            (e, None)
        }
        Some(record) => {
            if shaper.as_ref().is_some_and(|s| s.reads_frames()) {
                return Err(RunError::Invalid(
                    "--record and --shaping of a run shaped from camera frames cannot share the env's frames: evaluate once with each".into(),
                ));
            }
            let views: Vec<String> = venv.views().iter().map(|v| v.to_string()).collect();
            if views.is_empty() {
                return Err(RunError::Invalid(format!(
                    "--record: `{}` has no camera views",
                    cfg.env.id
                )));
            }
            let mut recorder = EvalRecorder::new(
                &record.out,
                &views,
                record.size,
                record.episodes.min(options.episodes),
                EVAL_SEED_OFFSET + options.seed,
            );
            venv.set_frames(Some(recorder.frame_spec()))?;
            let e = evaluate_policy_observed(
                &mut learner,
                &mut venv,
                eval_options,
                shaper.as_mut(),
                &mut |s| recorder.observe(s),
            )?;
            (e, Some(recorder.finish()?))
        }
    };
    let headline = headline
        .into_iter()
        .filter_map(|k| Some((k.clone(), evaluation.metric(&k)?)))
        .collect();
    Ok(EvalRun {
        config: cfg,
        run_dir,
        checkpoint,
        progress,
        learner,
        evaluation,
        recording,
        headline,
        stochastic: options.stochastic,
    })
}
