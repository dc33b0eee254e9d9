//! The run config: every setting of a training run in one documented struct, loaded from
//! RON with `deny_unknown_fields`, overridable with `--set`, validated before any work
//! starts, and written resolved into the run directory.
//!
//! It lives here, not in `rapt-ppo`, because validating it needs the env registry
//! (rapier) as well as the learner's settings (tch), and the learner never sees rapier.

use std::path::Path;

use rapt_config::{ConfigError, Loaded, Validate, Validator};
use rapt_ppo::{DeviceChoice, PpoConfig};
use rapt_shaping::Shaping;
use serde::{Deserialize, Serialize};

/// A training run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Experiment name, the prefix of the run directory (default `"default"`).
    pub name: String,
    /// Seed of everything random in the run: envs (`seed + i` for sub-env `i`; `seed +
    /// rank·num_envs + i` for rank `rank` of a data-parallel run), policy initialisation,
    /// action sampling (default 1).
    pub seed: u64,
    /// Processes of a data-parallel run (default 1). `rapt train` sets it to the MPI job's
    /// size (`mpirun -np N`); each rank steps `env.num_envs` envs, so one update's global
    /// batch is `ranks × env.num_envs × ppo.num_steps` and `train.total_steps` counts the
    /// steps of all ranks. A run is resumed with as many ranks as it was started with.
    pub ranks: usize,
    /// Where the learner runs: `Auto` (CUDA 0 if present, else CPU), `Cpu`, `Cuda(n)`
    /// (default `Auto`).
    pub device: DeviceChoice,
    /// The environment and how it is batched.
    pub env: EnvConfig,
    /// The training loop.
    pub train: TrainConfig,
    /// PPO hyperparameters (used when `train.policy` is `Ppo`).
    pub ppo: PpoConfig,
    /// The reward the learner sees: `None` (the env's, default), `Potential(model:
    /// Oracle)` (`r + γΦ(s') − Φ(s)`, γ = `ppo.gamma`), or the ablation
    /// `ProgressAsReward(model: Oracle)`; models: `Oracle`, `Ensemble(members: [..],
    /// aggregate: Mean | Min | MeanMinusStd(k))`.
    pub shaping: Shaping,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            name: "default".into(),
            seed: 1,
            ranks: 1,
            device: DeviceChoice::default(),
            env: EnvConfig::default(),
            train: TrainConfig::default(),
            ppo: PpoConfig::default(),
            shaping: Shaping::None,
        }
    }
}

/// The environment section of a run config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvConfig {
    /// Registered id, `Name-vN` (default `"CartPole-v1"`; `rapt envs` lists them).
    pub id: String,
    /// Parallel sub-environments (default 8, at least 1).
    pub num_envs: usize,
    /// Threads stepping them, the caller's included (default 1, 1 ≤ threads ≤ num_envs).
    pub threads: usize,
    /// Episode step limit; default: the env's own.
    pub max_episode_steps: Option<u32>,
    /// The env's parameters as a RON struct, e.g. `(control: JointDelta, reward: Sparse)`;
    /// unset fields keep the env's defaults (`rapt envs --params` prints them). Default:
    /// `()` (all defaults).
    pub params: Box<ron::value::RawValue>,
}

impl EnvConfig {
    /// The parameters' RON text (`()` when none are given).
    pub fn params_text(&self) -> &str {
        self.params.get_ron()
    }
}

impl Default for EnvConfig {
    fn default() -> Self {
        Self {
            id: "CartPole-v1".into(),
            num_envs: 8,
            threads: 1,
            max_episode_steps: None,
            params: ron::value::RawValue::from_boxed_ron("()".into()).expect("`()` is valid RON"),
        }
    }
}

/// What drives the actions of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyKind {
    /// PPO (continuous action spaces with the Gaussian or Beta head, discrete ones with
    /// the categorical head: `ppo.action_head`).
    Ppo,
    /// Uniformly random actions from the action space: a baseline.
    Random,
}

/// The training-loop section of a run config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Environment steps to run, summed over sub-envs (default 100 000).
    pub total_steps: u64,
    /// The policy (default `Ppo`).
    pub policy: PolicyKind,
    /// Write a `metrics.csv` row every this many env steps (default 10 000; PPO writes
    /// one row per update).
    pub log_every_steps: u64,
    /// Evaluate every this many PPO updates (default 10; 0 = only at the end).
    pub eval_every_updates: usize,
    /// Episodes per periodic evaluation (default 50).
    pub eval_episodes: usize,
    /// Episodes of the final evaluation (default 200).
    pub final_eval_episodes: usize,
    /// Save a checkpoint every this many PPO updates, and always at the end (default 25).
    pub checkpoint_every_updates: usize,
    /// Checkpoints kept, newest first (default 3).
    pub keep_checkpoints: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            total_steps: 100_000,
            policy: PolicyKind::Ppo,
            log_every_steps: 10_000,
            eval_every_updates: 10,
            eval_episodes: 50,
            final_eval_episodes: 200,
            checkpoint_every_updates: 25,
            keep_checkpoints: 3,
        }
    }
}

impl Validate for RunConfig {
    fn validate(&self, v: &mut Validator) {
        v.range("seed", self.seed, 0..=rapt_core::MAX_SEED);
        v.check(
            "name",
            valid_name(&self.name),
            "must be non-empty and use only letters, digits, `-`, `_`, `.`",
        );
        v.check_value(
            "ranks",
            (1..=MAX_RANKS).contains(&self.ranks),
            self.ranks,
            format!("must be 1 to {MAX_RANKS}"),
        );
        // The env is built once, for its own checks and for those below.
        let mut env = None;
        v.scope("env", |v| env = self.env.check(v));
        v.nested("train", &self.train);
        v.nested("ppo", &self.ppo);
        if self.train.policy == PolicyKind::Ppo {
            self.check_batch(v);
        }
        if self.train.policy == PolicyKind::Ppo
            && let Some(env) = &env
            && let Err(e) = rapt_ppo::ActionSpace::of(env.action_space(), self.ppo.action_head)
        {
            v.problem("ppo.action_head", format!("`{}`: {e}", self.env.id));
        }
        let problems = v.problems().len();
        v.scope("shaping", |v| self.shaping.validate_for(v, self.ppo.gamma));
        if v.problems().len() == problems
            && self.shaping.model().is_some()
            && let Some(env) = &env
            && env.info_layout().metric_index("phi").is_none()
        {
            v.problem(
                "shaping",
                format!(
                    "the progress model reads the env's privileged progress, and `{}` reports no `phi` metric",
                    self.env.id
                ),
            );
        }
    }
}

impl RunConfig {
    /// One update's batch, `ppo.num_steps × env.num_envs`: bounded, divisible into
    /// minibatches, and no larger than the whole run.
    fn check_batch(&self, v: &mut Validator) {
        let (steps, envs) = (self.ppo.num_steps, self.env.num_envs);
        if steps > rapt_ppo::MAX_NUM_STEPS || envs > MAX_NUM_ENVS {
            return; // Reported as out of range.
        }
        let Some(batch) = steps.checked_mul(envs).filter(|&b| b <= MAX_BATCH) else {
            v.problem(
                "ppo.num_steps",
                format!(
                    "num_steps × env.num_envs = {steps} × {envs} exceeds the largest batch, {MAX_BATCH}"
                ),
            );
            return;
        };
        if batch == 0 {
            return; // Reported as num_steps or num_envs = 0.
        }
        let minibatches = self.ppo.num_minibatches;
        v.check_value(
            "ppo.num_minibatches",
            minibatches <= batch,
            minibatches,
            format!("is more than the batch, num_steps × env.num_envs = {batch} steps"),
        );
        let ranks = self.ranks.clamp(1, MAX_RANKS) as u64;
        v.check_value(
            "train.total_steps",
            self.train.total_steps >= batch as u64 * ranks,
            self.train.total_steps,
            if ranks == 1 {
                format!(
                    "is less than one update's batch, num_steps × env.num_envs = {steps} × {envs} = {batch} steps"
                )
            } else {
                format!(
                    "is less than one update's global batch, ranks × num_steps × env.num_envs = {ranks} × {steps} × {envs} = {} steps",
                    batch as u64 * ranks
                )
            },
        );
    }
}

/// Upper bound on `ranks`, the processes of a data-parallel run.
pub const MAX_RANKS: usize = 4096;

/// Upper bound on the steps of one update's batch (`ppo.num_steps × env.num_envs`).
pub const MAX_BATCH: usize = 1 << 24;
/// Upper bound on `env.num_envs`: the registry's.
pub use rapt_core::MAX_NUM_ENVS;

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

impl Validate for EnvConfig {
    fn validate(&self, v: &mut Validator) {
        self.check(v);
    }
}

impl EnvConfig {
    /// Record every problem of this section in `v`; the raw env when its id and
    /// parameters are valid.
    fn check(&self, v: &mut Validator) -> Option<Box<dyn rapt_core::Env>> {
        let registry = rapt_registry::registry();
        let mut built = None;
        match registry.spec(&self.id) {
            Err(e) => v.problem("id", e),
            Ok(_) => {
                match registry.make_raw(&self.id, self.params_text()) {
                    // A syntax or type error inside the parameters: at its own position.
                    Err(e @ rapt_core::EnvError::ParamsSyntax { line, column, .. }) => {
                        let within = rapt_config::Position { line, column };
                        v.problem_within("params", within, e);
                    }
                    // Out-of-range parameters: each at its value, when the text sets it.
                    Err(rapt_core::EnvError::ParamsOutOfRange { id, problems }) => {
                        for (path, message) in problems {
                            let message = format!("invalid parameters for `{id}`: {message}");
                            match rapt_config::value_position(self.params_text(), &path) {
                                Some(within) => v.problem_within("params", within, message),
                                None => v.problem("params", message),
                            }
                        }
                    }
                    Err(e) => v.problem("params", e),
                    Ok(env) => built = Some(env),
                }
            }
        }
        v.range("num_envs", self.num_envs, 1..=MAX_NUM_ENVS);
        v.range("threads", self.threads, 1..=self.num_envs.max(1));
        if let Some(steps) = self.max_episode_steps {
            v.positive("max_episode_steps", steps);
        }
        built
    }
}

impl Validate for TrainConfig {
    fn validate(&self, v: &mut Validator) {
        v.positive("total_steps", self.total_steps);
        v.positive("log_every_steps", self.log_every_steps);
        v.positive("eval_episodes", self.eval_episodes);
        v.positive("final_eval_episodes", self.final_eval_episodes);
        v.positive("checkpoint_every_updates", self.checkpoint_every_updates);
        v.positive("keep_checkpoints", self.keep_checkpoints);
    }
}

/// Load and validate a run config with `--set` overrides.
pub fn load(path: &Path, overrides: &[String]) -> Result<Loaded<RunConfig>, ConfigError> {
    rapt_config::load(path, overrides)
}
