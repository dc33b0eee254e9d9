//! Training a run: from a validated [`RunConfig`] and a claimed [`RunDir`] to
//! [`Trainer::learn`] and a final evaluation.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use rapt_core::{VecEnv, VecEnvOptions};
use rapt_ppo::{
    ActionSpace, BaselineSummary, CheckpointCallback, CsvSink, EvalCallback, Evaluation,
    LearnSummary, Learner, Logger, PpoConfig, Progress, ProgressSink, RunDir, TensorBoardSink,
    Trainer,
};

use crate::{RunConfig, RunError, make_shaper};

/// What a finished (or stopped) training run measured.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The final evaluation on `train.final_eval_episodes` held-out episodes.
    pub evaluation: Evaluation,
    /// Steps, time, whether it stopped early.
    pub summary: LearnSummary,
    /// Wall time of all evaluations, the final one included, s.
    pub eval_seconds: f64,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RunError {
    let what = what.into();
    move |source| RunError::Io { what, source }
}

/// Save the resolved config (`resolved_ron`, e.g. [`rapt_config::Loaded::resolved_ron`])
/// into a new run directory; refuses a directory that holds a run already (starting over
/// would replace its config and mix two runs' metrics and checkpoints).
pub fn start_run(run: &RunDir, resolved_ron: &str) -> Result<(), RunError> {
    if run.join("config.ron").exists() {
        let dir = run.path().display();
        return Err(RunError::Invalid(format!(
            "{dir} already holds a run: continue it with `rapt train --resume {dir}`, or choose another --run-dir"
        )));
    }
    Ok(run.write_atomic("config.ron", resolved_ron.as_bytes())?)
}

/// Claim `run_dir` for a new run of `cfg` and save the config in it (what
/// [`start_run`] does with the config serialized here, for callers that built `cfg` in
/// code rather than loading a file).
pub fn start_new_run(cfg: &RunConfig, run_dir: &std::path::Path) -> Result<RunDir, RunError> {
    let run = RunDir::claim(run_dir)?;
    let resolved = ron::ser::to_string_pretty(cfg, ron::ser::PrettyConfig::default())
        .map_err(|e| RunError::Invalid(format!("serializing the run config: {e}")))?;
    start_run(&run, &resolved)?;
    Ok(run)
}

/// Options of the run's vector env with `num_envs` sub-envs.
fn vec_options(cfg: &RunConfig, num_envs: usize) -> VecEnvOptions {
    VecEnvOptions {
        num_envs,
        threads: cfg.env.threads.min(num_envs),
        max_episode_steps: cfg.env.max_episode_steps,
    }
}

/// Train with PPO as `cfg` says in `run` (or, with `resume`, continue from its newest
/// checkpoint), stopping cleanly once `stop` is set: metrics to `metrics.csv`,
/// TensorBoard and a progress bar, periodic evaluations and checkpoints, then the final
/// evaluation.
pub fn train(
    cfg: &RunConfig,
    run: &RunDir,
    resume: bool,
    stop: Arc<AtomicBool>,
) -> Result<TrainOutcome, RunError> {
    let registry = rapt_envs::registry();
    let params = cfg.env.params_text();
    let mut venv = registry.make_vec(&cfg.env.id, params, &vec_options(cfg, cfg.env.num_envs))?;
    let eval_envs = cfg.env.num_envs.min(cfg.train.eval_episodes.max(1));
    let mut eval_venv = registry.make_vec(&cfg.env.id, params, &vec_options(cfg, eval_envs))?;
    let cores = rapt_ppo::available_cores();
    rapt_ppo::configure_torch_threads(rapt_ppo::torch_threads_for(venv.threads(), cores));
    let device = cfg.device.resolve()?;
    let in_env = |e: rapt_ppo::TrainError| RunError::Invalid(format!("`{}`: {e}", cfg.env.id));
    let (learner, progress) = if resume {
        // The checkpoint holds the head `action_head: Auto` became.
        let space =
            ActionSpace::of(venv.single_action_space(), cfg.ppo.action_head).map_err(in_env)?;
        let ppo = PpoConfig {
            action_head: space.head,
            ..cfg.ppo.clone()
        };
        rapt_ppo::resume_run(run, &ppo, device)?
    } else {
        let learner = Learner::for_env(&venv, cfg.ppo.clone(), device, cfg.seed).map_err(|e| {
            RunError::Invalid(format!(
                "building the PPO learner for `{}`: {e}",
                cfg.env.id
            ))
        })?;
        (learner, Progress::default())
    };
    let shaper = make_shaper(cfg, &mut venv)?;
    // Evaluations report the shaping terms too, from their own shaper.
    let eval_shaper = make_shaper(cfg, &mut eval_venv)?;

    let steps_per_update = (cfg.ppo.num_steps * venv.num_envs()) as u64;
    let total = rapt_ppo::num_updates(cfg.train.total_steps, steps_per_update) * steps_per_update;
    let resumed_at = (progress.update > 0).then_some(progress.global_step);
    let csv = CsvSink::open(&run.metrics_csv()).map_err(io("opening metrics.csv"))?;
    let tb = TensorBoardSink::create(&run.join("tensorboard"), resumed_at).map_err(io(format!(
        "creating TensorBoard events in {}",
        run.path().display()
    )))?;
    let logger = Logger::new()
        .with_sink(csv)
        .with_sink(tb)
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
    let evaluation = eval.evaluate(
        trainer.learner_mut(),
        cfg.train.final_eval_episodes,
        summary.num_updates,
    )?;
    Ok(TrainOutcome {
        evaluation,
        summary,
        eval_seconds: eval.seconds(),
    })
}

/// `policy: Random`: episode statistics of uniformly random actions into `run`'s
/// `metrics.csv`, as a baseline.
pub fn random_baseline(cfg: &RunConfig, run: &RunDir) -> Result<BaselineSummary, RunError> {
    let options = vec_options(cfg, cfg.env.num_envs);
    let mut venv = rapt_envs::registry().make_vec(&cfg.env.id, cfg.env.params_text(), &options)?;
    let csv = CsvSink::open(&run.metrics_csv()).map_err(io("opening metrics.csv"))?;
    let mut logger = Logger::new()
        .with_sink(csv)
        .with_sink(ProgressSink::new(0, cfg.train.total_steps));
    Ok(rapt_ppo::random_baseline(
        &mut venv,
        cfg.train.total_steps,
        cfg.seed,
        cfg.train.log_every_steps,
        &mut logger,
    )?)
}
