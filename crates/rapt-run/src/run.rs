//! Training a run: a job started ([`start`]: new, resumed, one process or every rank of
//! an MPI job), its prepared envs and learner trained ([`train`]: [`Trainer::learn`] and a
//! final evaluation).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use rapt_core::VecEnv;
use rapt_ppo::{
    BaselineSummary, Callback, CheckpointCallback, Dist, EvalCallback, Evaluation, LearnSummary,
    Progress, Trainer,
};
use rapt_rundir::{CheckpointDir, CsvSink, Logger, ProgressSink, RunDir, TensorBoardSink};

use crate::prepare::{Prepared, Role, prepare};
use crate::{RunConfig, RunError};

/// How [`train`] runs: fresh or resumed, when to stop, whether to evaluate at the end.
#[derive(Debug, Clone)]
pub struct TrainOptions {
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
            stop: Arc::new(AtomicBool::new(false)),
            final_eval: true,
            dist: rapt_ppo::dist::single(),
        }
    }
}

/// What a finished (or stopped) training run measured.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The env trained on.
    pub env_id: String,
    /// The final evaluation on `train.final_eval_episodes` held-out episodes (`None` when
    /// [`TrainOptions::final_eval`] is off or a signal stopped it).
    pub evaluation: Option<Evaluation>,
    /// Whether a signal stopped the final evaluation of a finished run.
    pub eval_stopped: bool,
    /// Steps, time, whether it stopped early.
    pub summary: LearnSummary,
    /// Wall time of all evaluations, the final one included, s.
    pub eval_seconds: f64,
}

impl std::fmt::Display for TrainOutcome {
    /// The run's summary: steps, time and speed, then the final evaluation (or the one at
    /// the interruption) with the env's metrics. Only a finished run's says "final
    /// evaluation" (scripts look for it).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.summary;
        let trained = format!(
            "{}: {} steps in {:.1} s of training ({:.0} steps/s)",
            self.env_id,
            s.global_step,
            s.train_seconds,
            s.steps as f64 / s.train_seconds
        );
        let Some(e) = &self.evaluation else {
            let why = match self.eval_stopped {
                true => {
                    "final evaluation stopped by a signal (the last checkpoint is saved; `rapt eval RUN` evaluates it)"
                }
                false => "no final evaluation (--no-final-eval)",
            };
            return writeln!(f, "{trained}; {why}");
        };
        let which = match s.stopped_early {
            true => "evaluation at interruption",
            false => "final evaluation",
        };
        let (lo, hi) = e.success_ci95;
        writeln!(
            f,
            "{trained} and {:.1} s of evaluation; {which} over {} held-out episodes: success {:.1}% (95% CI {:.1}–{:.1}%), success once {:.1}%, mean return {:.3}",
            self.eval_seconds,
            e.episodes,
            e.success_rate * 100.0,
            lo * 100.0,
            hi * 100.0,
            e.success_once_rate * 100.0,
            e.mean_return
        )?;
        f.write_str(&e.metric_lines())
    }
}

/// What a `policy: Random` run measured ([`random_baseline`]).
#[derive(Debug, Clone)]
pub struct BaselineOutcome {
    /// The env.
    pub env_id: String,
    /// Steps, time and the last episodes' statistics.
    pub summary: BaselineSummary,
}

impl std::fmt::Display for BaselineOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.summary;
        writeln!(
            f,
            "{}: {} steps in {:.1} s ({:.0} steps/s), {} episodes; last {} episodes: mean return {:.2}, mean length {:.1}, success {:.1}% (random policy)",
            self.env_id,
            s.global_step,
            s.seconds,
            s.global_step as f64 / s.seconds,
            s.window.total(),
            s.window.len(),
            s.window.mean(|e| e.ret),
            s.window.mean(|e| f64::from(e.length)),
            s.window.mean(|e| f64::from(u8::from(e.success_at_end))) * 100.0
        )
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RunError {
    let what = what.into();
    move |source| RunError::Io { what, source }
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
        for name in ["metrics.csv", rapt_rundir::TENSORBOARD_DIR] {
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

/// Settings `rapt train --resume RUN_DIR --set ...` ([`start`] with [`StartRequest::Resume`]) may change:
/// they change where and how the run is computed or reported, not what it learns.
pub const RESUME_SETTABLE: [&str; 3] = [
    "device",
    "train.final_eval_episodes",
    "train.keep_checkpoints",
];

/// Claim the PPO run in `run_dir` to continue it: its saved config with `overrides`
/// (`path=value`, only for [`RESUME_SETTABLE`] paths), the run directory claimed, the
/// run prepared from its newest intact checkpoint; overrides are saved back into its
/// `config.ron` once the run is prepared.
fn claim_for_resume(
    run_dir: &Path,
    overrides: &[String],
    ranks: usize,
) -> Result<(Prepared, RunDir), RunError> {
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
    check_ranks(&loaded.config, ranks, true)?;
    let run = RunDir::claim(run_dir)?;
    let prepared = prepare(&loaded.config, Role::Lead, Some(&run), local_ranks())?;
    if !overrides.is_empty() {
        run.write_atomic("config.ron", loaded.resolved_ron.as_bytes())?;
    }
    Ok((prepared, run))
}

/// Prepare the run `cfg` (built in code rather than loaded from a file), then claim
/// `run_dir` for it and save the config in it (what [`start_run`] does with the config
/// serialized here).
pub fn start_new_run(cfg: &RunConfig, run_dir: &Path) -> Result<(Prepared, RunDir), RunError> {
    let prepared = prepare(cfg, Role::Lead, None, local_ranks())?;
    let run = RunDir::claim(run_dir)?;
    let resolved = rapt_config::to_ron(cfg)
        .map_err(|e| RunError::Invalid(format!("serializing the run config: {e}")))?;
    start_run(&run, &resolved)?;
    Ok((prepared, run))
}

/// Train `cfg` with PPO into the new run directory `run_dir` (claimed, the config saved
/// in it), with default [`TrainOptions`]: what `rapt train` does after loading the config,
/// without a signal handler.
pub fn train_new(cfg: &RunConfig, run_dir: &Path) -> Result<TrainOutcome, RunError> {
    let (prepared, run) = start_new_run(cfg, run_dir)?;
    train(prepared, Some(&run), &TrainOptions::default())
}

/// How a `rapt train` job starts: a new run from a config file, or a saved run resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartRequest {
    /// A new run from the config file `config` with `--set` `overrides`, in `run_dir`
    /// (default: a new `runs/<name>-<UTC stamp>`).
    New {
        /// The RON config.
        config: PathBuf,
        /// `path=value` overrides.
        overrides: Vec<String>,
        /// The run directory to claim.
        run_dir: Option<PathBuf>,
    },
    /// Continue the run in `run_dir`, with the [`RESUME_SETTABLE`] `overrides`.
    Resume {
        /// The run directory.
        run_dir: PathBuf,
        /// `path=value` overrides of [`RESUME_SETTABLE`] settings.
        overrides: Vec<String>,
    },
}

/// A job ready to run, from [`start`].
#[derive(Debug)]
pub enum Started {
    /// A PPO run: train it with [`train`]. `run` is the claimed run directory on the lead
    /// process, `None` on the other ranks of a data-parallel run.
    Ppo {
        /// The envs, learner and shapers.
        prepared: Box<Prepared>,
        /// The run directory (lead process only).
        run: Option<RunDir>,
        /// Whether it continues a saved run.
        resumed: bool,
    },
    /// `policy: Random`: run [`random_baseline`] into `run`.
    Random {
        /// The config.
        config: Box<RunConfig>,
        /// The run directory.
        run: RunDir,
    },
}

/// Start the job `request` describes on the processes of `dist` (this process alone, or
/// every rank of an MPI job): the config loaded and checked, the run prepared
/// ([`prepare`]) before a new run directory is claimed, so a run that cannot start leaves
/// nothing behind. In a data-parallel job rank 0 loads the config (with `ranks` set to the
/// job's size), claims the directory and shares the config; every rank then prepares its
/// own envs, and an error on rank 0 is every rank's error.
pub fn start(request: &StartRequest, dist: &Dist) -> Result<Started, RunError> {
    if dist.size() == 1 {
        return start_lead(request, 1);
    }
    let lead = (dist.rank() == 0).then(|| start_lead(request, dist.size()));
    let shared = lead.as_ref().map(|started| match started {
        Ok(Started::Ppo {
            prepared,
            run: Some(run),
            ..
        }) => Ok((prepared.config.clone(), run.path().to_path_buf())),
        Ok(_) => Err(RunError::Invalid(
            "only PPO runs train data-parallel: run it without mpirun".into(),
        )),
        Err(e) => Err(RunError::Invalid(e.to_string())),
    });
    let (cfg, _) = share_start(dist.as_ref(), shared)?;
    match lead {
        Some(started) => started,
        None => Ok(Started::Ppo {
            prepared: Box::new(prepare(&cfg, Role::Worker, None, local_ranks())?),
            run: None,
            resumed: matches!(request, StartRequest::Resume { .. }),
        }),
    }
}

/// The lead process's part of [`start`] in a job of `ranks` processes.
fn start_lead(request: &StartRequest, ranks: usize) -> Result<Started, RunError> {
    let (config, overrides, run_dir) = match request {
        StartRequest::Resume { run_dir, overrides } => {
            let (prepared, run) = claim_for_resume(run_dir, overrides, ranks)?;
            return Ok(Started::Ppo {
                prepared: Box::new(prepared),
                run: Some(run),
                resumed: true,
            });
        }
        StartRequest::New {
            config,
            overrides,
            run_dir,
        } => (config, overrides, run_dir),
    };
    let mut overrides = overrides.clone();
    if ranks > 1 {
        overrides.push(format!("ranks={ranks}"));
    }
    let loaded = crate::config::load(config, &overrides)?;
    let cfg = loaded.config;
    let claim = |cfg: &RunConfig| -> Result<RunDir, RunError> {
        let run = match run_dir {
            Some(dir) => RunDir::claim(dir)?,
            None => RunDir::create_new(Path::new("runs"), &cfg.name)?,
        };
        start_run(&run, &loaded.resolved_ron)?;
        Ok(run)
    };
    match cfg.train.policy {
        crate::PolicyKind::Random => {
            cfg.device.resolve()?;
            let run = claim(&cfg)?;
            Ok(Started::Random {
                config: Box::new(cfg),
                run,
            })
        }
        crate::PolicyKind::Ppo => {
            check_ranks(&cfg, ranks, false)?;
            let prepared = prepare(&cfg, Role::Lead, None, local_ranks())?;
            let run = claim(&cfg)?;
            Ok(Started::Ppo {
                prepared: Box::new(prepared),
                run: Some(run),
                resumed: false,
            })
        }
    }
}

/// Train the prepared run with PPO (or continue it, when it was prepared from a
/// checkpoint), stopping cleanly once the stop flag is set. On the lead process (`run` is
/// its claimed directory): metrics to `metrics.csv`, TensorBoard and a progress bar,
/// periodic evaluations and checkpoints, then the final evaluation. On the other ranks
/// of a data-parallel run (`run` is `None`): the envs step and train with the others, a
/// resumed run takes rank 0's checkpoint through the collective, and no evaluation is
/// returned.
pub fn train(
    prepared: Prepared,
    run: Option<&RunDir>,
    options: &TrainOptions,
) -> Result<TrainOutcome, RunError> {
    let Prepared {
        config: cfg,
        device,
        mut venv,
        mut learner,
        mut progress,
        shaper,
        eval,
        torch_threads,
        ..
    } = prepared;
    let dist = options.dist.clone();
    check_ranks(&cfg, dist.size(), progress.update > 0)?;
    if dist.size() > 1 {
        // Every rank continues from rank 0's weights, optimizer, statistics and counters.
        learner.set_collective(dist.clone());
        progress = broadcast_progress(progress, dist.as_ref());
    }
    // Waits for progress scores end at a stop, whatever the reward server does.
    let (mut shaper, mut eval) = (shaper, eval);
    for s in shaper
        .iter_mut()
        .chain(eval.iter_mut().filter_map(|e| e.1.as_mut()))
    {
        s.set_stop_flag(options.stop.clone());
    }
    let mut trainer = Trainer::new(learner, cfg.seed)
        .with_progress(progress)
        .with_shaper(shaper)
        .with_stop_flag(options.stop.clone())
        .with_torch_threads(torch_threads);
    let (Some(run), Some((eval_venv, eval_shaper))) = (run, eval) else {
        let summary = trainer.learn(&mut venv, cfg.train.total_steps, &mut [])?;
        return Ok(TrainOutcome {
            env_id: cfg.env.id.clone(),
            evaluation: None,
            eval_stopped: false,
            summary,
            eval_seconds: 0.0,
        });
    };
    tracing::info!(run_dir = %run.path().display(), ranks = dist.size(), "run started");
    let torch = rapt_ppo::libtorch_info();
    tracing::info!(libtorch = torch.version, cuda_devices = torch.cuda_devices, device = ?device, "learner backend");
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
    // Seed base 0, as `rapt eval` by default: a finished run, resumed or not, reports
    // what `rapt eval` of its final checkpoint reports. A run a signal stopped evaluates
    // as it is (a second signal ends the process); a finished run's final evaluation is
    // given up at the first signal, the checkpoint being saved already.
    let (episodes, learner) = (cfg.train.final_eval_episodes, trainer.learner_mut());
    let (evaluation, eval_stopped) = match (options.final_eval, summary.stopped_early) {
        (false, _) => (None, false),
        // Unless the evaluation itself waits on a stopped shaper: then it is given up.
        (true, true) => match eval.evaluate(learner, episodes, 0) {
            Ok(e) => (Some(e), false),
            Err(rapt_ppo::TrainError::Stopped) => (None, true),
            Err(e) => return Err(e.into()),
        },
        (true, false) => match eval.evaluate_unless_stopped(learner, episodes, 0, &options.stop) {
            Ok(e) => (Some(e), false),
            Err(rapt_ppo::TrainError::Stopped) => (None, true),
            Err(e) => return Err(e.into()),
        },
    };
    Ok(TrainOutcome {
        env_id: cfg.env.id.clone(),
        evaluation,
        eval_stopped,
        summary,
        eval_seconds: eval.seconds(),
    })
}

/// The config's `ranks` must be the job's size, `size` (a resumed run keeps its ranks).
fn check_ranks(cfg: &RunConfig, size: usize, resume: bool) -> Result<(), RunError> {
    if cfg.ranks == size {
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
            cfg.ranks, size
        )
    } else {
        format!(
            "the config says `ranks: {}` and this job has {} rank(s): launch it with {launch}",
            cfg.ranks, size
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
fn share_start(
    dist: &dyn rapt_ppo::Collective,
    prepared: Option<Result<(RunConfig, PathBuf), RunError>>,
) -> Result<(RunConfig, PathBuf), RunError> {
    let mut bytes = match &prepared {
        Some(Ok((cfg, dir))) => {
            let ron = rapt_config::to_ron(cfg)
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
        config_digest: p.config_digest,
    }
}

/// `policy: Random`: episode statistics of uniformly random actions into `run`'s
/// `metrics.csv`, as a baseline.
pub fn random_baseline(cfg: &RunConfig, run: &RunDir) -> Result<BaselineOutcome, RunError> {
    tracing::warn!(
        "policy: Random: this run steps `{}` with uniformly random actions and records its episode statistics as a baseline",
        cfg.env.id
    );
    let options = crate::prepare::vec_options(cfg, cfg.env.num_envs);
    let mut venv =
        rapt_registry::registry().make_vec(&cfg.env.id, cfg.env.params_text(), &options)?;
    let csv = CsvSink::open(&run.metrics_csv()).map_err(io("opening metrics.csv"))?;
    let mut logger = Logger::new()
        .with_sink(csv)
        .with_sink(ProgressSink::new(0, cfg.train.total_steps));
    let summary = rapt_ppo::random_baseline(
        &mut venv,
        cfg.train.total_steps,
        cfg.seed,
        cfg.train.log_every_steps,
        &mut logger,
    )?;
    Ok(BaselineOutcome {
        env_id: cfg.env.id.clone(),
        summary,
    })
}
