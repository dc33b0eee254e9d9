//! The reward-model recipe: a learned step-aware reward model for any task with an oracle
//! Φ, made robust to the policy it shapes by on-policy rounds (DAgger for reward models).
//!
//! 1. Record the env's `mixed` episodes (expert, perturbed expert, random) and a
//!    held-out set; train the base model on them.
//! 2. Each round: train [`RecipeConfig::policies`] PPO policies shaped by the newest model
//!    (the task's shaped config with `Oracle` swapped for `Learned(newest)`), score them on
//!    held-out episodes, record their episodes (training data) and more of them (held
//!    out), and measure the newest model on the held-out ones — the states PPO actually
//!    visits when shaped by it. If its MAE there is at most [`RecipeConfig::stop_mae`] and
//!    its VOC at least [`RecipeConfig::stop_voc`], PPO did not find states where it is
//!    wrong: it is the recipe's model and the rounds stop. Otherwise a new model is
//!    trained on everything recorded so far and the next round starts.
//! 3. After [`RecipeConfig::max_rounds`] rounds without meeting the criterion, the last
//!    model trained is the result, marked as not checked on its own policies.
//!
//! Everything lands in one directory (datasets, models, PPO runs, `report.json`,
//! `report.md`, the result in `model/`). Each step is recorded in `state.json` when it
//! finishes: rerunning the same recipe skips finished steps, resumes an interrupted PPO
//! or model training from its newest checkpoint, and re-records an interrupted dataset.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use rapt_reward_model::eval::{EvalReport, evaluate_dataset};
use rapt_reward_model::record::{DatasetRecordOptions, manifest_for, record_dataset};
use rapt_reward_model::{DatasetWriter, RewardModel, RewardModelConfig, RewardModelRun};
use rapt_reward_model::{RewardModelStart, RewardModelTrainError};
use serde::{Deserialize, Serialize};

use crate::{EvalRunOptions, RunError};

/// The recipe's settings (every field has a default but `ppo_config`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecipeConfig {
    /// The task's run config, shaped by the oracle potential
    /// (`shaping: Potential(model: Oracle, scale: K)`): its env, PPO settings and k are
    /// the rounds'; only the model is swapped. Required.
    pub ppo_config: PathBuf,
    /// Env steps of each round's PPO runs (default: the config's `train.total_steps`).
    pub ppo_steps: Option<u64>,
    /// PPO policies per round (default 2), seeds `100·round + 1 …`.
    pub policies: usize,
    /// Most on-policy rounds (default 3).
    pub max_rounds: usize,
    /// Stop when the newest model's mean absolute error against the oracle Φ on its own
    /// policies' held-out episodes is at most this (default 0.05) …
    pub stop_mae: f64,
    /// … and its VOC there at least this (default 0.9).
    pub stop_voc: f64,
    /// `mixed` training episodes recorded first (default 300, seeds 0 …).
    pub record_episodes: u32,
    /// Held-out `mixed` episodes (default 60, seeds 100000 …).
    pub heldout_episodes: u32,
    /// Training episodes recorded from each round policy (default 150).
    pub policy_episodes: u32,
    /// Held-out episodes recorded from each round policy (default 30).
    pub policy_heldout_episodes: u32,
    /// Frame size, px (default 32); every view of the env is recorded.
    pub size: usize,
    /// The reward model's settings (default: `configs/reward-models/default.ron`'s).
    pub model: RewardModelConfig,
    /// Epochs of the models trained after an on-policy round (default 16; the base
    /// model trains `model.epochs`).
    pub round_epochs: usize,
    /// Held-out episodes each round policy is scored on (default 200, seeds from
    /// [`crate::report::HELD_OUT_SEED`], as `rapt report` scores runs).
    pub eval_episodes: usize,
}

impl Default for RecipeConfig {
    fn default() -> Self {
        Self {
            ppo_config: PathBuf::new(),
            ppo_steps: None,
            policies: 2,
            max_rounds: 3,
            stop_mae: 0.05,
            stop_voc: 0.9,
            record_episodes: 300,
            heldout_episodes: 60,
            policy_episodes: 150,
            policy_heldout_episodes: 30,
            size: 32,
            model: RewardModelConfig::default(),
            round_epochs: 16,
            eval_episodes: 200,
        }
    }
}

impl RecipeConfig {
    /// Load, with `--set`-style `overrides`, and validate the recipe file at `path`
    /// (every mistake names `path:line:column` and the field).
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, rapt_config::ConfigError> {
        Ok(rapt_config::load(path, overrides)?.config)
    }

    /// Whether `m` (a model on its own policies' held-out episodes) meets the stopping
    /// criterion: MAE ≤ `stop_mae` and VOC ≥ `stop_voc` (a VOC of no successful episode,
    /// NaN, does not).
    pub fn met_by(&self, m: &Measured) -> bool {
        m.mae <= self.stop_mae && m.voc >= self.stop_voc
    }

    /// Every out-of-range field, as `field: message`.
    pub fn problems(&self) -> Vec<String> {
        let mut v = rapt_config::Validator::new();
        rapt_config::Validate::validate(self, &mut v);
        v.problems().iter().map(|p| p.to_string()).collect()
    }
}

impl rapt_config::Validate for RecipeConfig {
    fn validate(&self, v: &mut rapt_config::Validator) {
        v.check(
            "ppo_config",
            !self.ppo_config.as_os_str().is_empty(),
            "is required: the task's oracle-shaped run config".to_string(),
        );
        v.positive("policies", self.policies);
        v.positive("max_rounds", self.max_rounds);
        v.positive("record_episodes", self.record_episodes as usize);
        v.positive("heldout_episodes", self.heldout_episodes as usize);
        v.positive("policy_episodes", self.policy_episodes as usize);
        v.positive(
            "policy_heldout_episodes",
            self.policy_heldout_episodes as usize,
        );
        v.positive("round_epochs", self.round_epochs);
        v.positive("eval_episodes", self.eval_episodes);
        v.check_value(
            "size",
            (8..=256).contains(&self.size),
            self.size,
            "must be in 8..=256 px",
        );
        v.check_value(
            "stop_mae",
            (0.0..=1.0).contains(&self.stop_mae),
            self.stop_mae,
            "must be in [0, 1]",
        );
        v.check_value(
            "stop_voc",
            (-1.0..=1.0).contains(&self.stop_voc),
            self.stop_voc,
            "must be in [-1, 1]",
        );
        v.scope("model", |v| self.model.validate(v));
    }
}

/// A PPO training the recipe needs: the run config `config` with `overrides`, into
/// `run_dir` (resumed from its newest checkpoint when it holds one), without a final
/// evaluation (the recipe scores the policy itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PpoJob {
    /// The run config.
    pub config: PathBuf,
    /// `path=value` overrides (seed, steps, the shaping model).
    pub overrides: Vec<String>,
    /// The run directory.
    pub run_dir: PathBuf,
}

/// Runs a round's PPO trainings, which do not depend on each other: one after another in
/// this process ([`InProcess`]), or side by side as processes pinned to cores (what the
/// `rapt` CLI does).
pub trait PpoRunner {
    /// Train every job to its end; an error if any failed or was stopped.
    fn run(&self, jobs: &[PpoJob]) -> Result<(), RunError>;
}

/// Trains the jobs one after another in this process.
#[derive(Debug, Clone, Default)]
pub struct InProcess {
    /// Once set, the training in progress stops after its update (checkpoint saved) and
    /// the recipe stops with an error; rerunning resumes it.
    pub stop: Arc<AtomicBool>,
}

impl PpoRunner for InProcess {
    fn run(&self, jobs: &[PpoJob]) -> Result<(), RunError> {
        for job in jobs {
            let request = if has_checkpoint(&job.run_dir) {
                crate::StartRequest::Resume {
                    run_dir: job.run_dir.clone(),
                    overrides: vec![],
                }
            } else {
                crate::StartRequest::New {
                    config: job.config.clone(),
                    overrides: job.overrides.clone(),
                    run_dir: Some(job.run_dir.clone()),
                }
            };
            let options = crate::TrainOptions {
                stop: self.stop.clone(),
                final_eval: false,
                ..Default::default()
            };
            let (prepared, run) = match crate::start(&request, &options.dist)? {
                crate::Started::Ppo { prepared, run, .. } => (prepared, run),
                crate::Started::Random { .. } => {
                    return Err(RunError::Invalid(format!(
                        "{}: the recipe needs a PPO config",
                        job.config.display()
                    )));
                }
            };
            let outcome = crate::train(*prepared, run.as_ref(), &options)?;
            if outcome.summary.stopped_early {
                return Err(RunError::Invalid(format!(
                    "{}: stopped; rerun the recipe to resume it",
                    job.run_dir.display()
                )));
            }
        }
        Ok(())
    }
}

/// Trains up to `jobs` runs side by side, each a `rapt train` process of the binary
/// `exe` pinned to its own core (`taskset`, when installed: unpinned trainings on shared
/// cores slow each other ~4×) with one env thread; each writes `RUN_DIR.log`.
#[derive(Debug, Clone)]
pub struct Processes {
    /// The `rapt` binary.
    pub exe: PathBuf,
    /// Trainings at a time (cores `0..jobs`).
    pub jobs: usize,
}

impl PpoRunner for Processes {
    fn run(&self, jobs: &[PpoJob]) -> Result<(), RunError> {
        let pin = std::process::Command::new("taskset")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        let lanes = self.jobs.max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..lanes)
                .map(|lane| {
                    let mine: Vec<&PpoJob> = jobs.iter().skip(lane).step_by(lanes).collect();
                    scope.spawn(move || -> Result<(), RunError> {
                        for job in mine {
                            self.train_one(job, pin.then_some(lane))?;
                        }
                        Ok(())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a training lane panicked"))
                .collect::<Result<Vec<()>, RunError>>()
        })?;
        Ok(())
    }
}

impl Processes {
    fn train_one(&self, job: &PpoJob, core: Option<usize>) -> Result<(), RunError> {
        let mut cmd = match core {
            Some(c) => {
                let mut cmd = std::process::Command::new("taskset");
                cmd.arg("-c").arg(c.to_string()).arg(&self.exe);
                cmd
            }
            None => std::process::Command::new(&self.exe),
        };
        cmd.arg("train");
        if has_checkpoint(&job.run_dir) {
            cmd.arg("--resume").arg(&job.run_dir);
        } else {
            cmd.arg(&job.config).arg("--run-dir").arg(&job.run_dir);
            for o in job.overrides.iter().chain(&["env.threads=1".to_string()]) {
                cmd.arg("--set").arg(o);
            }
        }
        cmd.arg("--no-final-eval");
        let log_path = job.run_dir.with_extension("log");
        if let Some(parent) = log_path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| invalid(format!("{}: {e}", parent.display())))?;
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| invalid(format!("{}: {e}", log_path.display())))?;
        let err = log
            .try_clone()
            .map_err(|e| invalid(format!("{}: {e}", log_path.display())))?;
        let status = cmd
            .stdout(log)
            .stderr(err)
            .status()
            .map_err(|e| invalid(format!("starting {}: {e}", self.exe.display())))?;
        if !status.success() {
            return Err(invalid(format!(
                "training {} failed ({status}); see {}",
                job.run_dir.display(),
                log_path.display()
            )));
        }
        Ok(())
    }
}

/// Whether the run directory holds a PPO checkpoint to resume from.
pub fn has_checkpoint(run_dir: &Path) -> bool {
    rapt_rundir::CheckpointDir::updates(run_dir.join("checkpoints"))
        .latest()
        .is_some()
}

/// A model measured on a held-out dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// The dataset.
    pub dataset: PathBuf,
    /// Episodes in it.
    pub episodes: usize,
    /// Value-order consistency over its successful episodes (NaN: none succeeded).
    #[serde(deserialize_with = "nan_from_null")]
    pub voc: f64,
    /// Mean absolute error against the oracle Φ.
    #[serde(deserialize_with = "nan_from_null")]
    pub mae: f64,
    /// Stage accuracy.
    #[serde(deserialize_with = "nan_from_null")]
    pub stage_accuracy: f64,
}

/// serde_json writes NaN as `null`; read it back as NaN.
fn nan_from_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

impl Measured {
    fn new(dataset: &Path, r: &EvalReport) -> Self {
        Self {
            dataset: dataset.to_path_buf(),
            episodes: r.episodes,
            voc: r.voc,
            mae: r.mae,
            stage_accuracy: r.stage_accuracy,
        }
    }
}

/// One shaped PPO policy of a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundPolicy {
    /// Its run directory.
    pub run: PathBuf,
    /// Its seed.
    pub seed: u64,
    /// Success on the held-out episodes.
    pub success: f64,
    /// 95% Wilson interval of the success.
    pub success_ci95: (f64, f64),
}

/// One on-policy round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// 1, 2, …
    pub round: usize,
    /// The model that shaped the round's policies.
    pub shaped_by: PathBuf,
    /// The policies.
    pub policies: Vec<RoundPolicy>,
    /// That model on the policies' held-out episodes.
    pub on_policy: Measured,
    /// That model on the recorded held-out episodes.
    pub recorded: Measured,
    /// Whether it met the stopping criterion (then it is the result).
    pub stop: bool,
}

/// What the recipe made and measured (`report.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecipeReport {
    /// The env.
    pub env: String,
    /// The rounds so far.
    pub rounds: Vec<Round>,
    /// The resulting model (a copy of it is `model/`), once there is one.
    pub result: Option<PathBuf>,
    /// Whether the result met the stopping criterion on its own policies.
    pub checked: bool,
    /// Wall time of the recipe's steps so far (all sittings), s.
    pub seconds: f64,
}

impl std::fmt::Display for RecipeReport {
    /// A Markdown table per round.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "# Reward-model recipe: {}\n", self.env)?;
        writeln!(
            f,
            "| round | shaped by | shaped-PPO success per seed | on its policies: VOC / MAE / stage acc. | recorded held-out: VOC / MAE / stage acc. | stop |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|")?;
        for r in &self.rounds {
            let success: Vec<String> = r
                .policies
                .iter()
                .map(|p| format!("{}: {:.1}%", p.seed, p.success * 100.0))
                .collect();
            let m = |m: &Measured| format!("{:.3} / {:.4} / {:.3}", m.voc, m.mae, m.stage_accuracy);
            writeln!(
                f,
                "| {} | `{}` | {} | {} | {} | {} |",
                r.round,
                r.shaped_by.display(),
                success.join(", "),
                m(&r.on_policy),
                m(&r.recorded),
                if r.stop { "yes" } else { "no" }
            )?;
        }
        match &self.result {
            Some(model) => writeln!(
                f,
                "\nResult: `{}` ({}); {:.1} min of wall time.",
                model.display(),
                if self.checked {
                    "met the stopping criterion on its own policies"
                } else {
                    "the rounds ran out before the criterion was met: not checked on its own policies"
                },
                self.seconds / 60.0
            ),
            None => writeln!(f, "\nNo result yet."),
        }
    }
}

/// Finished steps, kept in `state.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    done: Vec<String>,
    report: RecipeReport,
}

/// The recipe in directory `out`.
#[derive(Debug)]
pub struct Recipe {
    cfg: RecipeConfig,
    out: PathBuf,
    env: String,
    params: String,
    max_steps: Option<u32>,
    scale: f32,
    steps: u64,
    state: State,
    device: tch::Device,
}

/// What can fail.
fn invalid(message: impl Into<String>) -> RunError {
    RunError::Invalid(message.into())
}

fn rm_error(e: RewardModelTrainError) -> RunError {
    invalid(e.to_string())
}

impl Recipe {
    /// The recipe `cfg` in directory `out`, training reward models on `device`. A new
    /// directory gets `recipe.ron`; an existing one must hold the same settings (a
    /// rerun continues it).
    pub fn open(cfg: RecipeConfig, out: &Path, device: tch::Device) -> Result<Self, RunError> {
        let problems = cfg.problems();
        if !problems.is_empty() {
            return Err(invalid(format!("recipe: {}", problems.join("; "))));
        }
        let loaded = crate::config::load(&cfg.ppo_config, &[])?;
        let run = loaded.config;
        let scale = match &run.shaping {
            rapt_shaping::Shaping::Potential { scale, .. } => *scale,
            _ => {
                return Err(invalid(format!(
                    "{}: the recipe shapes PPO with potential shaping; the config has `shaping: {:?}` (use e.g. configs/push-shaped-fast.ron)",
                    cfg.ppo_config.display(),
                    run.shaping
                )));
            }
        };
        std::fs::create_dir_all(out).map_err(|e| invalid(format!("{}: {e}", out.display())))?;
        let text = rapt_config::to_ron(&cfg).map_err(|e| invalid(e.to_string()))?;
        let saved = out.join("recipe.ron");
        match std::fs::read_to_string(&saved) {
            Ok(old) if old != text => {
                return Err(invalid(format!(
                    "{} holds a recipe with other settings ({}): rerun with those or use another directory",
                    out.display(),
                    saved.display()
                )));
            }
            Ok(_) => {}
            Err(_) => rapt_rundir::write_atomic(&saved, text.as_bytes())
                .map_err(|e| invalid(e.to_string()))?,
        }
        let state = match std::fs::read_to_string(out.join("state.json")) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| invalid(format!("{}/state.json: {e}", out.display())))?,
            Err(_) => State::default(),
        };
        Ok(Self {
            steps: cfg.ppo_steps.unwrap_or(run.train.total_steps),
            env: run.env.id.clone(),
            params: run.env.params_text().to_string(),
            max_steps: run.env.max_episode_steps,
            scale,
            cfg,
            out: out.to_path_buf(),
            state,
            device,
        })
    }

    /// The report so far.
    pub fn report(&self) -> &RecipeReport {
        &self.state.report
    }

    fn path(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    fn done(&self, step: &str) -> bool {
        self.state.done.iter().any(|s| s == step)
    }

    /// Mark `step` finished, adding `seconds` to the wall time, and save the state and
    /// the report.
    fn finish(&mut self, step: &str, seconds: f64) -> Result<(), RunError> {
        self.state.done.push(step.to_string());
        self.state.report.seconds += seconds;
        self.state.report.env = self.env.clone();
        let save = |name: &str, text: String| {
            rapt_rundir::write_atomic(&self.out.join(name), text.as_bytes())
                .map_err(|e| invalid(e.to_string()))
        };
        save(
            "state.json",
            serde_json::to_string_pretty(&self.state).expect("state serializes"),
        )?;
        save(
            "report.json",
            serde_json::to_string_pretty(&self.state.report).expect("report serializes"),
        )?;
        save("report.md", self.state.report.to_string())
    }

    /// Run `f` as step `name` unless it is done; `log` hears what happens.
    fn step(
        &mut self,
        name: &str,
        log: &mut dyn FnMut(&str),
        f: impl FnOnce(&mut Self) -> Result<(), RunError>,
    ) -> Result<(), RunError> {
        if self.done(name) {
            return Ok(());
        }
        log(&format!("{}: {name}", self.env));
        let start = std::time::Instant::now();
        f(self)?;
        self.finish(name, start.elapsed().as_secs_f64())
    }

    /// Record `episodes` episodes of `policy` (`mixed` or a run directory) from `seed`
    /// into the dataset `name` (re-recorded from scratch when a sitting left it
    /// unfinished).
    fn record(&self, name: &str, policy: &str, seed: u64, episodes: u32) -> Result<(), RunError> {
        let dir = self.path(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| invalid(format!("{}: {e}", dir.display())))?;
        }
        let mut env = rapt_registry::registry().make(&self.env, &self.params, self.max_steps)?;
        let views = rapt_core::select_views(&*env, &self.env, &[])?;
        let manifest = manifest_for(&*env, &self.env, &self.params, views, self.cfg.size)
            .map_err(|e| invalid(e.to_string()))?;
        let mut writer = DatasetWriter::open(&dir, manifest).map_err(|e| invalid(e.to_string()))?;
        let mut options = DatasetRecordOptions {
            policy: crate::policy::record_policy_for(policy, &self.env)?,
            episodes,
            seed,
            clip_fraction: 0.25,
        };
        record_dataset(&mut env, &mut writer, &mut options, |_| {})
            .map_err(|e| invalid(format!("recording {}: {e}", dir.display())))?;
        Ok(())
    }

    /// Train (or resume) the model `name` on `datasets` for `epochs`.
    fn train_model(
        &self,
        name: &str,
        datasets: Vec<PathBuf>,
        epochs: usize,
    ) -> Result<(), RunError> {
        let run_dir = self.path(name);
        let start = if rapt_reward_model::train::checkpoint_dir(&run_dir)
            .latest()
            .is_some()
        {
            RewardModelStart::Resume { run_dir }
        } else {
            let mut config = self.cfg.model.clone();
            config.epochs = epochs;
            RewardModelStart::New {
                datasets,
                config,
                run_dir: Some(run_dir),
            }
        };
        let mut run = RewardModelRun::start(&start, false, self.device).map_err(rm_error)?;
        let stop = AtomicBool::new(false);
        run.train(&stop, |_| {}).map_err(rm_error)?;
        Ok(())
    }

    fn measure(&self, model: &Path, dataset: &str) -> Result<Measured, RunError> {
        let m = RewardModel::load(model, self.device).map_err(|e| invalid(e.to_string()))?;
        let dir = self.path(dataset);
        let (report, ..) = evaluate_dataset(&m, &dir, false).map_err(|e| invalid(e.to_string()))?;
        Ok(Measured::new(&dir, &report))
    }

    /// Run the recipe to its end (or continue it), PPO trainings through `runner`;
    /// `log` hears each step as it starts. Returns the report.
    pub fn run(
        &mut self,
        runner: &dyn PpoRunner,
        log: &mut dyn FnMut(&str),
    ) -> Result<RecipeReport, RunError> {
        let cfg = self.cfg.clone();
        self.step("record", log, |r| {
            r.record("data/recorded", "mixed", 0, cfg.record_episodes)?;
            r.record(
                "data/recorded-heldout",
                "mixed",
                100_000,
                cfg.heldout_episodes,
            )
        })?;
        let mut datasets = vec![self.path("data/recorded")];
        self.step("model-0", log, |r| {
            r.train_model("models/rm-0", datasets.clone(), cfg.model.epochs)
        })?;
        let mut newest = self.path("models/rm-0/model");
        let mut checked = false;
        for round in 1..=cfg.max_rounds {
            let seeds: Vec<u64> = (1..=cfg.policies as u64)
                .map(|k| 100 * round as u64 + k)
                .collect();
            let runs: Vec<PathBuf> = seeds
                .iter()
                .map(|s| self.path(&format!("ppo/round-{round}-s{s}")))
                .collect();
            let shaped = newest.clone();
            self.step(&format!("round-{round}-ppo"), log, |r| {
                let jobs: Vec<PpoJob> = seeds
                    .iter()
                    .zip(&runs)
                    .map(|(s, run)| PpoJob {
                        config: cfg.ppo_config.clone(),
                        overrides: vec![
                            format!("seed={s}"),
                            format!("train.total_steps={}", r.steps),
                            format!(
                                "shaping=Potential(model: Learned(path: {:?}), scale: {:?})",
                                shaped.display().to_string(),
                                r.scale
                            ),
                        ],
                        run_dir: run.clone(),
                    })
                    .collect();
                runner.run(&jobs)
            })?;
            let name = |k: usize| format!("data/round-{round}-p{k}");
            self.step(&format!("round-{round}-record"), log, |r| {
                for (k, run) in runs.iter().enumerate() {
                    let policy = run.display().to_string();
                    let base = 10_000 * round as u64 + 1_000 * k as u64;
                    r.record(&name(k), &policy, base, cfg.policy_episodes)?;
                    r.record(
                        &format!("{}-heldout", name(k)),
                        &policy,
                        500_000 + base,
                        cfg.policy_heldout_episodes,
                    )?;
                }
                Ok(())
            })?;
            self.step(&format!("round-{round}-measure"), log, |r| {
                let mut policies = Vec::new();
                for (s, run) in seeds.iter().zip(&runs) {
                    let e = crate::evaluate_run(
                        run,
                        &EvalRunOptions {
                            episodes: cfg.eval_episodes,
                            seed: crate::report::HELD_OUT_SEED,
                            ..Default::default()
                        },
                    )?;
                    policies.push(RoundPolicy {
                        run: run.clone(),
                        seed: *s,
                        success: e.evaluation.success_rate,
                        success_ci95: e.evaluation.success_ci95,
                    });
                }
                // The model on all its policies' held-out episodes at once.
                let merged = format!("data/round-{round}-heldout");
                r.merge(
                    &merged,
                    (0..cfg.policies).map(|k| format!("{}-heldout", name(k))),
                )?;
                let on_policy = r.measure(&shaped, &merged)?;
                let recorded = r.measure(&shaped, "data/recorded-heldout")?;
                let stop = cfg.met_by(&on_policy);
                r.state.report.rounds.push(Round {
                    round,
                    shaped_by: shaped.clone(),
                    policies,
                    on_policy,
                    recorded,
                    stop,
                });
                Ok(())
            })?;
            let stop = self
                .state
                .report
                .rounds
                .iter()
                .any(|r| r.round == round && r.stop);
            if stop {
                checked = true;
                break;
            }
            datasets.extend((0..cfg.policies).map(|k| self.path(&name(k))));
            let model = format!("models/rm-{round}");
            self.step(&format!("model-{round}"), log, |r| {
                r.train_model(&model, datasets.clone(), cfg.round_epochs)
            })?;
            newest = self.path(&format!("{model}/model"));
        }
        self.step("result", log, |r| {
            let m = RewardModel::load(&newest, r.device).map_err(|e| invalid(e.to_string()))?;
            let dir = r.path("model");
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .map_err(|e| invalid(format!("{}: {e}", dir.display())))?;
            }
            m.save(&dir).map_err(|e| invalid(e.to_string()))?;
            r.state.report.result = Some(newest.clone());
            r.state.report.checked = checked;
            Ok(())
        })?;
        Ok(self.state.report.clone())
    }

    /// A dataset `name` holding the episodes of the datasets `parts` (hard links where the
    /// file system allows, copies otherwise).
    fn merge(&self, name: &str, parts: impl Iterator<Item = String>) -> Result<(), RunError> {
        let dir = self.path(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| invalid(format!("{}: {e}", dir.display())))?;
        }
        let mut writer: Option<DatasetWriter> = None;
        for part in parts {
            let (manifest, episodes, _) = rapt_reward_model::read_dataset(&self.path(&part), false)
                .map_err(|e| invalid(e.to_string()))?;
            let w = match &mut writer {
                Some(w) => w,
                None => writer.insert(
                    DatasetWriter::open(&dir, manifest).map_err(|e| invalid(e.to_string()))?,
                ),
            };
            for ep in &episodes {
                w.append(ep).map_err(|e| invalid(e.to_string()))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rounds_stop_only_on_an_accurate_model_of_successful_episodes() {
        let cfg = RecipeConfig::default();
        let m = |voc: f64, mae: f64| Measured {
            dataset: PathBuf::new(),
            episodes: 30,
            voc,
            mae,
            stage_accuracy: 0.9,
        };
        assert!(cfg.met_by(&m(0.95, 0.03)));
        assert!(!cfg.met_by(&m(0.95, 0.06)));
        assert!(!cfg.met_by(&m(0.85, 0.03)));
        assert!(!cfg.met_by(&m(f64::NAN, 0.03)));
    }

    #[test]
    fn a_recipe_needs_its_ppo_config_and_sane_counts() {
        let cfg = RecipeConfig {
            policies: 0,
            ..Default::default()
        };
        let p = cfg.problems().join("; ");
        assert!(p.contains("ppo_config") && p.contains("policies"), "{p}");
    }
}
