//! Evaluating a saved run, and the shaper a run's config asks for.

use std::path::{Path, PathBuf};

use rapt_core::ThreadedVecEnv;
use rapt_ppo::{EvalOptions, Evaluation, Learner, Progress, evaluate_policy};
use rapt_reward::Shaper;

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
}

/// A saved run evaluated.
#[derive(Debug)]
pub struct EvalRun {
    /// The run's config (with `env_set` applied).
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
}

/// Evaluate the newest checkpoint of the run directory `target` (or the checkpoint
/// `target` inside a run) in the env its saved config names, reporting the shaping
/// terms when the run was shaped.
pub fn evaluate_run(target: &Path, options: &EvalRunOptions) -> Result<EvalRun, RunError> {
    if options.episodes == 0 {
        return Err(RunError::Invalid("--episodes must be at least 1".into()));
    }
    let (run_dir, checkpoint) =
        rapt_run::locate_checkpoint(target, rapt_run::CheckpointDir::updates)?;
    let sets: Vec<String> = options
        .env_set
        .iter()
        .map(|s| format!("env.params.{s}"))
        .collect();
    let cfg = config::load(&run_dir.join("config.ron"), &sets)
        .map_err(|e| {
            e.relabel_overrides(|set| {
                let edit = set.strip_prefix("env.params.")?;
                Some(format!("--env-set {edit}"))
            })
        })?
        .config;
    let (mut learner, progress) = Learner::load_checkpoint(&checkpoint, cfg.device.resolve()?)?;
    // As many sub-envs as the run's own evaluations: the same seeds give the same episodes.
    let options_of_run = crate::run::vec_options(&cfg, crate::run::eval_envs(&cfg));
    let mut venv =
        rapt_envs::registry().make_vec(&cfg.env.id, cfg.env.params_text(), &options_of_run)?;
    let mut shaper = make_shaper(&cfg, &mut venv)?;
    let evaluation = evaluate_policy(
        &mut learner,
        &mut venv,
        EvalOptions {
            episodes: options.episodes,
            base: options.seed,
            stochastic: options.stochastic,
        },
        shaper.as_mut(),
    )?;
    Ok(EvalRun {
        config: cfg,
        run_dir,
        checkpoint,
        progress,
        learner,
        evaluation,
    })
}

/// The run's shaper for `venv` (which renders the model's camera views from its next
/// reset on, when the model reads frames); `None` when the run is not shaped. Learned
/// models load on the CPU; remote ones are checked against their server first.
pub fn make_shaper(cfg: &RunConfig, venv: &mut ThreadedVecEnv) -> Result<Option<Shaper>, RunError> {
    Ok(Shaper::for_vec_env(
        &cfg.shaping,
        &cfg.env.id,
        venv,
        cfg.ppo.gamma,
        &|spec| crate::models::load_model(spec, &cfg.env.id, cfg.env.params_text()),
    )?)
}
