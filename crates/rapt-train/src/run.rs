//! Training a run: from a validated [`RunConfig`] and a claimed [`RunDir`] to
//! [`Trainer::learn`] and a final evaluation.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use rapt_core::{VecEnv, VecEnvOptions};
use rapt_ppo::{
    ActionSpace, BaselineSummary, Callback, CheckpointCallback, Dist, EvalCallback, Evaluation,
    LearnSummary, Learner, PpoConfig, Progress, Trainer,
};
use rapt_run::{CheckpointDir, CsvSink, Logger, ProgressSink, RunDir, TensorBoardSink};

use crate::{RunConfig, RunError, make_shaper};

/// How [`train`] runs: fresh or resumed, when to stop, whether to evaluate at the end.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Continue from the run's newest checkpoint (from update 0 if it has none).
    /// Default: `false`.
    pub resume: bool,
    /// Once set, training stops after the current update, saving a checkpoint.
    /// Default: a flag nobody sets.
    pub stop: Arc<AtomicBool>,
    /// Evaluate on `train.final_eval_episodes` held-out episodes at the end (also of a
    /// stopped run). Default: `true`.
    pub final_eval: bool,
    /// The processes training together (`rapt_mpi::launch()`); its size must be the
    /// config's `ranks`. Default: this process alone.
    pub dist: Dist,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            resume: false,
            stop: Arc::new(AtomicBool::new(false)),
            final_eval: true,
            dist: rapt_ppo::dist::single(),
        }
    }
}

/// What a finished (or stopped) training run measured.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The final evaluation on `train.final_eval_episodes` held-out episodes (`None` when
    /// [`TrainOptions::final_eval`] is off).
    pub evaluation: Option<Evaluation>,
    /// Steps, time, whether it stopped early.
    pub summary: LearnSummary,
    /// Wall time of all evaluations, the final one included, s.
    pub eval_seconds: f64,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RunError {
    let what = what.into();
    move |source| RunError::Io { what, source }
}

/// Check what validating the config cannot, without writing anything: that the device
/// is there, that the policy can read the env's observations and act in its action
/// space, and that learned progress models load. `rapt train` calls this before it
/// claims a run directory, so a run that cannot start leaves nothing behind.
pub fn preflight(cfg: &RunConfig) -> Result<(), RunError> {
    let device = cfg.device.resolve()?;
    if cfg.train.policy == crate::PolicyKind::Random {
        return Ok(());
    }
    let registry = rapt_envs::registry();
    let mut venv = registry.make_vec(&cfg.env.id, cfg.env.params_text(), &vec_options(cfg, 1))?;
    Learner::for_env(&venv, cfg.ppo.clone(), device, cfg.seed).map_err(|e| {
        RunError::Invalid(format!(
            "building the PPO learner for `{}`: {e}",
            cfg.env.id
        ))
    })?;
    make_shaper(cfg, &mut venv)?;
    Ok(())
}

/// Save the resolved config (`resolved_ron`, e.g. [`rapt_config::Loaded::resolved_ron`])
/// into a new run directory. A directory that holds a run already is refused (starting
/// over would mix two runs' metrics and checkpoints) unless that run saved no checkpoint
/// and is a PPO run: it stopped before its first checkpoint, so it is started over (its
/// metrics and TensorBoard events removed).
pub fn start_run(run: &RunDir, resolved_ron: &str) -> Result<(), RunError> {
    if run.join("config.ron").exists() {
        let dir = run.path().display();
        if !restartable(run) {
            return Err(RunError::Invalid(format!(
                "{dir} already holds a run: continue it with `rapt train --resume {dir}`, or choose another --run-dir"
            )));
        }
        tracing::warn!("{dir} holds a run that saved no checkpoint: starting it over");
        for name in ["metrics.csv", rapt_run::TENSORBOARD_DIR] {
            let path = run.join(name);
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            match removed {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io(format!("removing {}", path.display()))(e));
                }
                _ => {}
            }
        }
    }
    Ok(run.write_atomic("config.ron", resolved_ron.as_bytes())?)
}

/// Whether the run in `run` can be started over: a PPO run (or a config that no longer
/// loads) without any checkpoint.
fn restartable(run: &RunDir) -> bool {
    let ppo = match crate::config::load(&run.join("config.ron"), &[]) {
        Ok(saved) => saved.config.train.policy == crate::PolicyKind::Ppo,
        Err(_) => true,
    };
    ppo && CheckpointDir::updates(run.checkpoints()).latest().is_none()
}

/// Settings `rapt train --resume RUN_DIR --set ...` ([`claim_for_resume`]) may change:
/// they change where and how the run is computed or reported, not what it learns.
pub const RESUME_SETTABLE: [&str; 3] = [
    "device",
    "train.final_eval_episodes",
    "train.keep_checkpoints",
];

/// Prepare the PPO run in `run_dir` to be continued: its saved config with `overrides`
/// (`path=value`, only for [`RESUME_SETTABLE`] paths), checked ([`preflight`]) before
/// the directory is claimed; overrides are saved back into its `config.ron`.
pub fn claim_for_resume(
    run_dir: &std::path::Path,
    overrides: &[String],
) -> Result<(RunConfig, RunDir), RunError> {
    let saved = run_dir.join("config.ron");
    if !saved.exists() {
        return Err(RunError::Invalid(format!(
            "cannot resume {}: it has no config.ron (is it a run directory?)",
            run_dir.display()
        )));
    }
    for set in overrides {
        let path = set.split_once('=').map_or(set.as_str(), |(p, _)| p).trim();
        if !RESUME_SETTABLE.contains(&path) {
            return Err(RunError::Invalid(format!(
                "--set {set}: a resumed run keeps its saved settings; only {} can be changed on --resume",
                RESUME_SETTABLE.map(|p| format!("`{p}`")).join(", ")
            )));
        }
    }
    let loaded = crate::config::load(&saved, overrides)?;
    if loaded.config.train.policy != crate::PolicyKind::Ppo {
        return Err(RunError::Invalid(format!(
            "cannot resume {}: only PPO runs have checkpoints",
            run_dir.display()
        )));
    }
    preflight(&loaded.config)?;
    let run = RunDir::claim(run_dir)?;
    if !overrides.is_empty() {
        run.write_atomic("config.ron", loaded.resolved_ron.as_bytes())?;
    }
    Ok((loaded.config, run))
}

/// Check `cfg` ([`preflight`]), then claim `run_dir` for a new run of it and save the
/// config in it (what [`start_run`] does with the config serialized here, for callers
/// that built `cfg` in code rather than loading a file).
pub fn start_new_run(cfg: &RunConfig, run_dir: &std::path::Path) -> Result<RunDir, RunError> {
    preflight(cfg)?;
    let run = RunDir::claim(run_dir)?;
    let resolved = ron::ser::to_string_pretty(cfg, ron::ser::PrettyConfig::default())
        .map_err(|e| RunError::Invalid(format!("serializing the run config: {e}")))?;
    start_run(&run, &resolved)?;
    Ok(run)
}

/// Sub-envs of a run's evaluation env: `env.num_envs`, at most `train.eval_episodes`.
/// [`crate::evaluate_run`] uses as many, so that it plays the same held-out episodes.
pub(crate) fn eval_envs(cfg: &RunConfig) -> usize {
    cfg.env.num_envs.min(cfg.train.eval_episodes.max(1))
}

/// Options of the run's vector env with `num_envs` sub-envs.
pub(crate) fn vec_options(cfg: &RunConfig, num_envs: usize) -> VecEnvOptions {
    VecEnvOptions {
        num_envs,
        threads: cfg.env.threads.min(num_envs),
        max_episode_steps: cfg.env.max_episode_steps,
    }
}

/// Train with PPO as `cfg` says in `run` (or continue it, see [`TrainOptions`]),
/// stopping cleanly once the stop flag is set: metrics to `metrics.csv`, TensorBoard and
/// a progress bar, periodic evaluations and checkpoints, then the final evaluation. In a
/// data-parallel run this is rank 0's part (the others call [`train_worker`]).
pub fn train(
    cfg: &RunConfig,
    run: &RunDir,
    options: &TrainOptions,
) -> Result<TrainOutcome, RunError> {
    train_rank(cfg, Some(run), options)
}

/// Rank `options.dist.rank()` > 0 of a data-parallel run: it steps its own envs and
/// trains with the others, while rank 0 ([`train`]) alone writes the run directory,
/// evaluates and checkpoints; a resumed run takes rank 0's checkpoint through the
/// collective, so this rank needs no access to the run directory. No evaluation is
/// returned.
pub fn train_worker(cfg: &RunConfig, options: &TrainOptions) -> Result<TrainOutcome, RunError> {
    train_rank(cfg, None, options)
}

fn train_rank(
    cfg: &RunConfig,
    run: Option<&RunDir>,
    options: &TrainOptions,
) -> Result<TrainOutcome, RunError> {
    let dist = options.dist.clone();
    check_ranks(cfg, dist.as_ref(), options.resume)?;
    let registry = rapt_envs::registry();
    let params = cfg.env.params_text();
    let mut venv = registry.make_vec(&cfg.env.id, params, &vec_options(cfg, cfg.env.num_envs))?;
    let cores = (rapt_ppo::available_cores() / local_ranks()).max(1);
    let torch_threads = rapt_ppo::TorchThreads::beside_envs(venv.threads(), cores);
    rapt_ppo::configure_torch_threads(torch_threads.rollout);
    let device = cfg.device.resolve()?;
    let in_env = |e: rapt_ppo::TrainError| RunError::Invalid(format!("`{}`: {e}", cfg.env.id));
    let resumed = match run {
        Some(run) if options.resume => {
            // The checkpoint holds the head `action_head: Auto` became.
            let space =
                ActionSpace::of(venv.single_action_space(), cfg.ppo.action_head).map_err(in_env)?;
            let ppo = PpoConfig {
                action_head: space.head,
                ..cfg.ppo.clone()
            };
            rapt_ppo::resume_run(run, &ppo, device)?
        }
        _ => None,
    };
    let (mut learner, mut progress) = if let Some(resumed) = resumed {
        resumed
    } else {
        let learner = Learner::for_env(&venv, cfg.ppo.clone(), device, cfg.seed).map_err(|e| {
            RunError::Invalid(format!(
                "building the PPO learner for `{}`: {e}",
                cfg.env.id
            ))
        })?;
        (learner, Progress::default())
    };
    if dist.size() > 1 {
        // Every rank continues from rank 0's weights, optimizer, statistics and counters.
        learner.set_collective(dist.clone());
        progress = broadcast_progress(progress, dist.as_ref());
    }
    let shaper = make_shaper(cfg, &mut venv)?;
    let mut trainer = Trainer::new(learner, cfg.seed)
        .with_progress(progress)
        .with_shaper(shaper)
        .with_stop_flag(options.stop.clone())
        .with_torch_threads(torch_threads);
    let Some(run) = run else {
        let summary = trainer.learn(&mut venv, cfg.train.total_steps, &mut [])?;
        return Ok(TrainOutcome {
            evaluation: None,
            summary,
            eval_seconds: 0.0,
        });
    };

    let mut eval_venv =
        registry.make_vec(&cfg.env.id, params, &vec_options(cfg, eval_envs(cfg)))?;
    // Evaluations report the shaping terms too, from their own shaper.
    let eval_shaper = make_shaper(cfg, &mut eval_venv)?;
    let steps_per_update = (cfg.ppo.num_steps * venv.num_envs() * dist.size()) as u64;
    let total = rapt_ppo::num_updates(cfg.train.total_steps, steps_per_update) * steps_per_update;
    let resumed_at = (progress.update > 0).then_some(progress.global_step);
    let csv = CsvSink::open(&run.metrics_csv()).map_err(io("opening metrics.csv"))?;
    let tb = TensorBoardSink::create(&run.tensorboard(), resumed_at).map_err(io(format!(
        "creating TensorBoard events in {}",
        run.path().display()
    )))?;
    *trainer.logger_mut() = Logger::new()
        .with_sink(csv)
        .with_sink(tb)
        .with_sink(ProgressSink::new(progress.global_step, total));
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
    let callbacks: &mut [&mut dyn Callback] = &mut [&mut eval, &mut checkpoints];
    let summary = trainer.learn(&mut venv, cfg.train.total_steps, callbacks)?;
    if summary.stopped_early {
        tracing::warn!(
            global_step = summary.global_step,
            "interrupted: checkpoint saved, stopping"
        );
    }
    let evaluation = if options.final_eval {
        // Seed base 0, as `rapt eval` by default: a finished run, resumed or not, reports
        // what `rapt eval` of its final checkpoint reports.
        Some(eval.evaluate(trainer.learner_mut(), cfg.train.final_eval_episodes, 0)?)
    } else {
        None
    };
    Ok(TrainOutcome {
        evaluation,
        summary,
        eval_seconds: eval.seconds(),
    })
}

/// The config's `ranks` must be the job's size (a resumed run keeps its ranks).
fn check_ranks(
    cfg: &RunConfig,
    dist: &dyn rapt_ppo::Collective,
    resume: bool,
) -> Result<(), RunError> {
    if cfg.ranks == dist.size() {
        return Ok(());
    }
    let launch = if cfg.ranks == 1 {
        "one process (no mpirun)".to_string()
    } else {
        format!("`mpirun -np {}`", cfg.ranks)
    };
    Err(RunError::Invalid(if resume {
        format!(
            "this run was trained with {} rank(s) and this job has {}: resume it with {launch}              (the global batch, the seeds and the counters depend on the number of ranks)",
            cfg.ranks,
            dist.size()
        )
    } else {
        format!(
            "the config says `ranks: {}` and this job has {} rank(s): launch it with {launch}",
            cfg.ranks,
            dist.size()
        )
    }))
}

/// Processes of this job on this machine (Open MPI's, MPICH's or Slurm's count; 1 when
/// none is set), so that the ranks of one machine share its cores.
fn local_ranks() -> usize {
    [
        "OMPI_COMM_WORLD_LOCAL_SIZE",
        "MPI_LOCALNRANKS",
        "SLURM_NTASKS_PER_NODE",
    ]
    .iter()
    .find_map(|v| std::env::var(v).ok()?.trim().parse::<usize>().ok())
    .unwrap_or(1)
    .max(1)
}

/// Give every rank of `dist` what rank 0 prepared for the run: its config (loaded,
/// checked, `ranks` set) and run directory, or why it could not start. Rank 0 passes
/// `Some(prepared)`, the others `None`; all get the same result, so when rank 0 fails
/// every rank returns the error and the job ends without waiting on rank 0.
pub fn share_start(
    dist: &dyn rapt_ppo::Collective,
    prepared: Option<Result<(RunConfig, PathBuf), RunError>>,
) -> Result<(RunConfig, PathBuf), RunError> {
    let mut bytes = match &prepared {
        Some(Ok((cfg, dir))) => {
            let ron = ron::ser::to_string(cfg)
                .map_err(|e| RunError::Invalid(format!("serializing the run config: {e}")))?;
            format!("ok\n{}\n{ron}", dir.display()).into_bytes()
        }
        Some(Err(e)) => format!("error\n{e}").into_bytes(),
        None => Vec::new(),
    };
    dist.broadcast_bytes(&mut bytes);
    if let Some(prepared) = prepared {
        return prepared;
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut parts = text.splitn(3, '\n');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("ok"), Some(dir), Some(ron)) => {
            let cfg: RunConfig = rapt_config::ron_options().from_str(ron).map_err(|e| {
                RunError::Invalid(format!("reading the run config rank 0 sent: {e}"))
            })?;
            Ok((cfg, PathBuf::from(dir)))
        }
        (Some("error"), ..) => Err(RunError::Invalid(format!(
            "rank 0 could not start the run: {}",
            text.split_once('\n').map_or("", |(_, m)| m)
        ))),
        _ => Err(RunError::Invalid(format!(
            "rank 0 sent no run to train ({} bytes)",
            bytes.len()
        ))),
    }
}

/// Rank 0's counters on every rank.
fn broadcast_progress(p: Progress, dist: &dyn rapt_ppo::Collective) -> Progress {
    let mut v = [
        p.global_step as f64,
        p.update as f64,
        p.last_eval.unwrap_or(f64::NAN),
    ];
    dist.broadcast_f64(&mut v);
    Progress {
        global_step: v[0] as u64,
        update: v[1] as u64,
        last_eval: (!v[2].is_nan()).then_some(v[2]),
    }
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
