//! `rapt train` with PPO: build the envs, learner, shaping, logger and callbacks a run
//! config describes, call [`rapt_ppo::Trainer::learn`], print the final evaluation.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use rapt_core::{ThreadedVecEnv, VecEnv, VecEnvOptions};
use rapt_ppo::{
    ActionSpace, CheckpointCallback, CsvSink, EvalCallback, Evaluation, Learner, Logger, Progress,
    ProgressSink, RunDir, TensorBoardSink, Trainer,
};
use rapt_reward::Shaper;

use crate::config::RunConfig;

/// Train (or, with `resume`, continue from the newest checkpoint of) the run in `run`
/// as `cfg` says; returns the final evaluation.
pub fn train(
    cfg: &RunConfig,
    run: &RunDir,
    resume: bool,
    stop: Arc<AtomicBool>,
) -> Result<Evaluation> {
    let registry = rapt_envs::registry();
    let options = VecEnvOptions {
        num_envs: cfg.env.num_envs,
        threads: cfg.env.threads,
        max_episode_steps: cfg.env.max_episode_steps,
    };
    let params = cfg.env.params_text();
    let mut venv = registry.make_vec(&cfg.env.id, params, &options)?;
    let eval_options = VecEnvOptions {
        num_envs: cfg.env.num_envs.min(cfg.train.eval_episodes.max(1)),
        ..options.clone()
    };
    let mut eval_venv = registry.make_vec(&cfg.env.id, params, &eval_options)?;
    let cores = rapt_ppo::available_cores();
    rapt_ppo::configure_torch_threads(rapt_ppo::torch_threads_for(venv.threads(), cores));
    let (learner, progress) = if resume {
        // The checkpoint holds the head `action_head: Auto` became.
        let space = ActionSpace::of(venv.single_action_space(), cfg.ppo.action_head)?;
        let ppo = rapt_ppo::PpoConfig {
            action_head: space.head,
            ..cfg.ppo.clone()
        };
        rapt_ppo::resume_run(run, &ppo, cfg.device.resolve()?)?
    } else {
        let learner = Learner::for_env(&venv, cfg.ppo.clone(), cfg.device.resolve()?, cfg.seed)
            .with_context(|| format!("building the PPO learner for `{}`", cfg.env.id))?;
        (learner, Progress::default())
    };
    let shaper = make_shaper(cfg, &mut venv)?;
    // Evaluations report the shaping terms too, from their own shaper.
    let eval_shaper = make_shaper(cfg, &mut eval_venv)?;

    let steps_per_update = (cfg.ppo.num_steps * venv.num_envs()) as u64;
    let total = (cfg.train.total_steps / steps_per_update).max(1) * steps_per_update;
    let resumed_at = (progress.update > 0).then_some(progress.global_step);
    let logger = Logger::new()
        .with_sink(CsvSink::open(&run.metrics_csv()).context("opening metrics.csv")?)
        .with_sink(
            TensorBoardSink::create(&run.join("tensorboard"), resumed_at).with_context(|| {
                format!("creating TensorBoard events in {}", run.path().display())
            })?,
        )
        .with_sink(ProgressSink::new(progress.global_step, total));
    let mut trainer = Trainer::new(learner, cfg.seed)
        .with_progress(progress)
        .with_shaper(shaper)
        .with_logger(logger)
        .with_stop_flag(stop);
    let mut eval = EvalCallback::new(
        Box::new(eval_venv),
        cfg.train.eval_episodes,
        cfg.train.eval_every_updates,
    )
    .with_shaper(eval_shaper)
    .save_best(run.checkpoints().join("best"));
    let mut checkpoints = CheckpointCallback::new(
        run.checkpoints(),
        cfg.train.checkpoint_every_updates,
        cfg.train.keep_checkpoints,
    );
    let summary = trainer.learn(
        &mut venv,
        cfg.train.total_steps,
        &mut [&mut eval, &mut checkpoints],
    )?;
    if summary.stopped_early {
        tracing::warn!(
            global_step = summary.global_step,
            "interrupted: checkpoint saved, stopping"
        );
    }
    let final_eval = eval.evaluate(
        trainer.learner_mut(),
        cfg.train.final_eval_episodes,
        summary.num_updates,
    )?;
    let (lo, hi) = final_eval.success_ci95;
    // Only a finished run's summary says "final evaluation" (scripts look for it).
    let which = if summary.stopped_early {
        "evaluation at interruption"
    } else {
        "final evaluation"
    };
    println!(
        "{}: {} steps in {:.1} s of training ({:.0} steps/s) and {:.1} s of evaluation; {which} over {} held-out episodes: success {:.1}% (95% CI {:.1}–{:.1}%), success once {:.1}%, mean return {:.3}",
        cfg.env.id,
        summary.global_step,
        summary.train_seconds,
        summary.steps as f64 / summary.train_seconds,
        eval.seconds(),
        final_eval.episodes,
        final_eval.success_rate * 100.0,
        lo * 100.0,
        hi * 100.0,
        final_eval.success_once_rate * 100.0,
        final_eval.mean_return
    );
    super::eval::print_metrics(&final_eval);
    Ok(final_eval)
}

/// The run's shaper for `venv` (which renders the model's camera views from its next
/// reset on, when the model reads frames); `None` when the run is not shaped.
pub fn make_shaper(cfg: &RunConfig, venv: &mut ThreadedVecEnv) -> Result<Option<Shaper>> {
    Ok(Shaper::for_vec_env(
        &cfg.shaping,
        &cfg.env.id,
        venv,
        cfg.ppo.gamma,
        &rapt_rm::LearnedProgress::load_boxed,
    )?)
}
