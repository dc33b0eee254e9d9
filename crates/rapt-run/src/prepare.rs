//! Building a run once: the envs, the learner (fresh or from the run's newest
//! checkpoint), the shapers and the evaluation env, from a validated [`RunConfig`]. The
//! check before a run directory is claimed and the training itself use the same
//! [`Prepared`], so the two cannot disagree, and every progress model is loaded once.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use rapt_core::{ThreadedVecEnv, VecEnv, VecEnvOptions};
use rapt_ppo::{ActionSpace, Learner, PpoConfig, Progress, TorchThreads};
use rapt_rundir::RunDir;
use rapt_shaping::{LoadError, ModelSpec, ProgressModel, Shaper, SharedModel};
use tch::Device;

use crate::{RunConfig, RunError};

/// Which part of a run this process plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The only process, or rank 0 of a data-parallel run: it also evaluates, so it
    /// builds the evaluation env (default).
    Lead,
    /// A rank > 0 of a data-parallel run: envs, learner and shaper only.
    Worker,
}

/// Everything a PPO run trains with, built once from its config ([`prepare`]).
pub struct Prepared {
    /// The config it was built from.
    pub config: RunConfig,
    /// The device the learner and learned progress models run on.
    pub device: Device,
    /// The training envs (`env.num_envs` sub-envs).
    pub venv: ThreadedVecEnv,
    /// The learner: fresh, or the run's newest intact checkpoint.
    pub learner: Learner,
    /// Its counters (zero for a fresh learner).
    pub progress: Progress,
    /// The training envs' shaper; `None` when the run is not shaped.
    pub shaper: Option<Shaper>,
    /// The evaluation envs and their shaper (for `eval/shaping_return`); the lead
    /// process only.
    pub eval: Option<(ThreadedVecEnv, Option<Shaper>)>,
    /// Torch threads for the rollout and the update, sized against the env threads.
    pub torch_threads: TorchThreads,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("env", &self.config.env.id)
            .field("device", &self.device)
            .field("progress", &self.progress)
            .field("shaped", &self.shaper.is_some())
            .field("evaluates", &self.eval.is_some())
            .finish_non_exhaustive()
    }
}

/// Build the run `cfg` describes, as `role` in a job of `local_ranks` processes on this
/// machine (they share its cores). With `resume`, the learner is the newest intact
/// checkpoint of that claimed run directory (what the killed process logged after it is
/// dropped from `metrics.csv`); without one, or when the run has none yet, it is fresh.
/// Nothing is written otherwise, so a new run is prepared before its directory is
/// claimed and a run that cannot start leaves nothing behind.
pub fn prepare(
    cfg: &RunConfig,
    role: Role,
    resume: Option<&RunDir>,
    local_ranks: usize,
) -> Result<Prepared, RunError> {
    let device = cfg.device.resolve()?;
    let registry = rapt_registry::registry();
    let params = cfg.env.params_text();
    let mut venv = registry.make_vec(&cfg.env.id, params, &vec_options(cfg, cfg.env.num_envs))?;
    let cores = (rapt_ppo::available_cores() / local_ranks.max(1)).max(1);
    let torch_threads = TorchThreads::beside_envs(venv.threads(), cores);
    rapt_ppo::configure_torch_threads(torch_threads.rollout);
    let resumed = match resume {
        Some(run) => {
            // The checkpoint holds the head `action_head: Auto` became.
            let in_env = |e| RunError::Invalid(format!("`{}`: {e}", cfg.env.id));
            let space =
                ActionSpace::of(venv.single_action_space(), cfg.ppo.action_head).map_err(in_env)?;
            let ppo = PpoConfig {
                action_head: space.head,
                ..cfg.ppo.clone()
            };
            rapt_ppo::resume_run(run, &ppo, device)?
        }
        None => None,
    };
    let digest = config_digest(cfg);
    let (learner, mut progress) = match resumed {
        Some((learner, progress)) => {
            check_digest(cfg, progress.config_digest, digest)?;
            (learner, progress)
        }
        None => {
            let learner =
                Learner::for_env(&venv, cfg.ppo.clone(), device, cfg.seed).map_err(|e| {
                    RunError::Invalid(format!(
                        "building the PPO learner for `{}`: {e}",
                        cfg.env.id
                    ))
                })?;
            (learner, Progress::default())
        }
    };
    progress.config_digest = Some(digest);
    let models = ModelCache::new(cfg, device);
    let shaper = models.shaper(&mut venv)?;
    let eval = match role {
        Role::Worker => None,
        Role::Lead => {
            let mut eval_venv =
                registry.make_vec(&cfg.env.id, params, &vec_options(cfg, eval_envs(cfg)))?;
            let eval_shaper = models.shaper(&mut eval_venv)?;
            Some((eval_venv, eval_shaper))
        }
    };
    Ok(Prepared {
        config: cfg.clone(),
        device,
        venv,
        learner,
        progress,
        shaper,
        eval,
        torch_threads,
    })
}

/// A digest of `cfg`'s settings but those `--resume --set` may change
/// ([`crate::RESUME_SETTABLE`]), saved with every checkpoint.
pub fn config_digest(cfg: &RunConfig) -> u64 {
    let mut kept = cfg.clone();
    let defaults = RunConfig::default();
    kept.device = defaults.device;
    kept.train.final_eval_episodes = defaults.train.final_eval_episodes;
    kept.train.keep_checkpoints = defaults.train.keep_checkpoints;
    let text = rapt_config::to_ron(&kept).unwrap_or_default();
    let hash = rapt_rundir::integrity::sha256(text.as_bytes());
    u64::from_le_bytes(hash[..8].try_into().expect("8 bytes"))
}

/// A resumed run's settings must be the ones its checkpoint was trained with.
fn check_digest(cfg: &RunConfig, saved: Option<u64>, now: u64) -> Result<(), RunError> {
    match saved {
        Some(saved) if saved != now => Err(RunError::Invalid(format!(
            "the run's config.ron differs from the settings its checkpoints were trained with (it was edited): a resumed run is the same run, so only {} may change, with `--resume --set`; restore config.ron, or start a new run with the new settings (`rapt train CONFIG`) [`{}`]",
            crate::RESUME_SETTABLE.map(|p| format!("`{p}`")).join(", "),
            cfg.name
        ))),
        Some(_) => Ok(()),
        None => {
            tracing::warn!(
                "the checkpoint records no config digest (written before 2026-12-06): its settings are not checked against config.ron"
            );
            Ok(())
        }
    }
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

/// The progress models of one run, each loaded once and shared by the run's shapers:
/// learned models on the run's device (their scores depend on the frames alone, so the
/// training and evaluation shapers can take turns with one). Remote models keep
/// per-episode state (GRM's references), so each shaper gets its own client.
pub(crate) struct ModelCache<'a> {
    cfg: &'a RunConfig,
    device: Device,
    learned: Mutex<HashMap<(PathBuf, Option<usize>), SharedModel>>,
    load_learned: LearnedLoader,
}

/// Loads a learned model from its directory onto a device.
type LearnedLoader =
    fn(&std::path::Path, Option<usize>, Device) -> Result<Box<dyn ProgressModel>, LoadError>;

impl<'a> ModelCache<'a> {
    pub(crate) fn new(cfg: &'a RunConfig, device: Device) -> Self {
        Self {
            cfg,
            device,
            learned: Mutex::new(HashMap::new()),
            load_learned: rapt_reward_model::LearnedProgress::load_boxed,
        }
    }

    /// The run's shaper for `venv` (which renders the model's camera views from its
    /// next reset on, when the model reads frames); `None` when the run is not shaped.
    pub(crate) fn shaper(&self, venv: &mut ThreadedVecEnv) -> Result<Option<Shaper>, RunError> {
        let cfg = self.cfg;
        Ok(Shaper::for_vec_env(
            &cfg.shaping,
            &cfg.env.id,
            venv,
            cfg.ppo.gamma,
            &|spec| self.load(spec),
        )?)
    }

    fn load(&self, spec: &ModelSpec) -> Result<Box<dyn ProgressModel>, LoadError> {
        let ModelSpec::Learned { path, fixed_batch } = spec else {
            let cfg = self.cfg;
            return crate::models::load_model(
                spec,
                &cfg.env.id,
                cfg.env.params_text(),
                self.device,
            );
        };
        let mut learned = self.learned.lock().unwrap_or_else(|e| e.into_inner());
        let key = (path.clone(), *fixed_batch);
        if let Some(model) = learned.get(&key) {
            return Ok(Box::new(model.clone()));
        }
        let model = (self.load_learned)(path, *fixed_batch, self.device)?;
        let shared = SharedModel::new(model);
        learned.insert(key, shared.clone());
        Ok(Box::new(shared))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapt_shaping::{ProgressInput, ProgressScores, RewardError};

    /// Records the device it was loaded onto.
    struct Probe(Device);

    impl ProgressModel for Probe {
        fn name(&self) -> String {
            format!("probe on {:?}", self.0)
        }
        fn needs_frames(&self) -> bool {
            false
        }
        fn score(&mut self, input: &ProgressInput<'_>) -> Result<ProgressScores, RewardError> {
            Ok(ProgressScores {
                phi: vec![0.0; input.n],
                uncertainty: None,
            })
        }
    }

    static LOADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    fn probe(
        _: &std::path::Path,
        _: Option<usize>,
        device: Device,
    ) -> Result<Box<dyn ProgressModel>, LoadError> {
        LOADS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Box::new(Probe(device)))
    }

    #[test]
    fn a_learned_model_is_loaded_once_on_the_run_device() {
        let text = "(env: (id: \"Reach-v0\"), device: Cuda(0), shaping: Potential(model: Learned(path: \"m\")))";
        let cfg: RunConfig = rapt_config::ron_options().from_str(text).unwrap();
        // What `prepare` does with the config's device, without needing a GPU here.
        let mut cache = ModelCache::new(&cfg, Device::Cuda(0));
        cache.load_learned = probe;
        let spec = cfg.shaping.model().unwrap();
        let a = cache.load(spec).unwrap();
        let b = cache.load(spec).unwrap();
        assert_eq!(LOADS.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(a.name(), "probe on Cuda(0)");
        assert_eq!(b.name(), "probe on Cuda(0)");
    }
}
