//! The PPO run loop on any [`VecEnv`] (Stable-Baselines3's `PPO(...).learn()`): collect a
//! rollout into the [`RolloutBuffer`], shape and scale its rewards, bootstrap, update,
//! log one metrics row, and let [`Callback`]s evaluate, checkpoint or stop the run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rapt_core::{EpisodeStats, VecEnv};
use rapt_rundir::Logger;
use rapt_shaping::Shaper;

use crate::{
    ActionSpace, GaeParams, Learner, ObsLayout, Progress, RolloutBuffer, StepRecord, TorchThreads,
    TrainError, UpdateStats, configure_torch_threads,
};

/// What a callback tells the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop after this update (it is checkpointed as the last one).
    Stop,
}

/// What callbacks see after each update.
#[derive(Debug)]
pub struct UpdateContext<'a> {
    /// The learner (evaluate it, save it).
    pub learner: &'a mut Learner,
    /// The metrics row being filled for this update.
    pub logger: &'a mut Logger,
    /// Counters after this update (`update` counts it); callbacks that evaluate set
    /// `last_eval`, which checkpoints keep.
    pub progress: &'a mut Progress,
    /// Updates this run will do in all.
    pub num_updates: u64,
    /// This is the run's last update (its budget is spent, or it was asked to stop).
    pub is_last: bool,
    /// The update's diagnostics.
    pub stats: &'a UpdateStats,
}

/// Hooks into the run loop (SB3's `BaseCallback`).
pub trait Callback {
    /// After each update, before its metrics row is written: record metrics, evaluate,
    /// or ask to stop. Time spent here is not counted in `charts/SPS`.
    fn on_update(&mut self, _ctx: &mut UpdateContext<'_>) -> Result<Control, TrainError> {
        Ok(Control::Continue)
    }

    /// After the row is written (checkpoints go here, so a resumed run keeps every row
    /// up to its checkpoint).
    fn on_logged(&mut self, _ctx: &mut UpdateContext<'_>) -> Result<(), TrainError> {
        Ok(())
    }
}

/// How a call to [`Trainer::learn`] ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LearnSummary {
    /// Env steps counted over the whole run (resumed runs included).
    pub global_step: u64,
    /// Env steps taken by this call.
    pub steps: u64,
    /// Wall time of this call outside callbacks, s.
    pub train_seconds: f64,
    /// Wall time spent in callbacks' `on_update` (evaluations), s.
    pub callback_seconds: f64,
    /// The run stopped before its budget (stop flag or a callback).
    pub stopped_early: bool,
    /// Updates of the whole run.
    pub num_updates: u64,
}

/// PPO training of one learner, with optional reward shaping and a metrics logger.
#[derive(Debug)]
pub struct Trainer {
    learner: Learner,
    progress: Progress,
    seed: u64,
    shaper: Option<Shaper>,
    logger: Logger,
    stop: Option<Arc<AtomicBool>>,
    window: EpisodeWindow,
    torch_threads: Option<TorchThreads>,
}

/// Updates a run of `total_steps` env steps does at `steps_per_update` (`num_steps ×
/// num_envs`) per update: whole updates, at least one.
pub fn num_updates(total_steps: u64, steps_per_update: u64) -> u64 {
    (total_steps / steps_per_update.max(1)).max(1)
}

/// Seeds of the envs' first reset after `update` updates (the run's seed at update 0).
fn reset_seed(seed: u64, update: u64) -> u64 {
    seed.wrapping_add(update << 32)
}

impl Learner {
    /// Check that this learner can act in `venv`: the env's observation layout and action
    /// size must be the ones the learner was built (or its checkpoint saved) for, e.g.
    /// after `--env-set` changed a camera size. Returns the action space.
    pub fn check_fits(&self, venv: &dyn VecEnv) -> Result<ActionSpace, TrainError> {
        self.check_fits_spaces(venv.single_observation_space(), venv.single_action_space())
    }

    /// [`Learner::check_fits`] for one env's observation and action spaces: every place a
    /// policy meets an env (evaluation, single episodes, rendering, recording) checks
    /// this first, so a policy never runs on an env whose layout it was not built for.
    pub fn check_fits_spaces(
        &self,
        observation: &rapt_core::Space,
        action: &rapt_core::Space,
    ) -> Result<ActionSpace, TrainError> {
        let space = ActionSpace::of(action, self.action_head())?;
        let layout = ObsLayout::of(observation);
        if layout != self.layout() || space.learner_dim() != self.act_dim() {
            return Err(TrainError::Invalid(format!(
                "the policy was built for observations {} and {} action values, but this env \
                 gives observations {} and takes {} (were the env's parameters changed?)",
                describe(self.layout()),
                self.act_dim(),
                describe(layout),
                space.learner_dim()
            )));
        }
        Ok(space)
    }

    /// A fresh learner for `venv`'s spaces: the observation layout from its observation
    /// space, `config.action_head: Auto` resolved from its action space (Gaussian for a
    /// bounded Box, categorical for a Discrete space); torch seeded with `seed`.
    pub fn for_env(
        venv: &dyn VecEnv,
        config: crate::PpoConfig,
        device: tch::Device,
        seed: u64,
    ) -> Result<Self, TrainError> {
        let space = ActionSpace::of(venv.single_action_space(), config.action_head)?;
        let layout = ObsLayout::of(venv.single_observation_space());
        let config = crate::PpoConfig {
            action_head: space.head,
            ..config
        };
        Ok(Learner::new(
            layout,
            space.learner_dim(),
            config,
            device,
            seed,
        )?)
    }
}

impl Trainer {
    /// A trainer for `learner`; `seed` seeds the envs' resets and the per-update sampling.
    pub fn new(learner: Learner, seed: u64) -> Self {
        Self {
            learner,
            progress: Progress::default(),
            seed,
            shaper: None,
            logger: Logger::new(),
            stop: None,
            window: EpisodeWindow::default(),
            torch_threads: None,
        }
    }

    /// Continue from a checkpoint's counters (step, update, last evaluation).
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Shape the env's rewards (the shaper's frame spec must already be set on the env).
    pub fn with_shaper(mut self, shaper: Option<Shaper>) -> Self {
        self.shaper = shaper;
        self
    }

    /// Where metrics go.
    pub fn with_logger(mut self, logger: Logger) -> Self {
        self.logger = logger;
        self
    }

    /// Stop cleanly (checkpoint callbacks see a last update) once `flag` is set, e.g. by
    /// a signal handler.
    pub fn with_stop_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }

    /// Switch torch's intra-op thread count between collecting rollouts and updating
    /// (default: leave it as it is). Callbacks (evaluation) run with the rollout count.
    pub fn with_torch_threads(mut self, threads: TorchThreads) -> Self {
        self.torch_threads = Some(threads);
        self
    }

    /// The learner.
    pub fn learner(&self) -> &Learner {
        &self.learner
    }

    /// The learner, mutably (e.g. for a final evaluation).
    pub fn learner_mut(&mut self) -> &mut Learner {
        &mut self.learner
    }

    /// The counters.
    pub fn progress(&self) -> Progress {
        self.progress
    }

    /// The logger (add sinks, or record run-level values).
    pub fn logger_mut(&mut self) -> &mut Logger {
        &mut self.logger
    }

    /// The learner, giving up the trainer.
    pub fn into_learner(self) -> Learner {
        self.learner
    }

    /// Train on `venv` until the run has taken `total_steps` env steps (rounded down to
    /// whole updates of `num_steps × num_envs`, at least one), counting steps already
    /// taken before a resume.
    pub fn learn(
        &mut self,
        venv: &mut dyn VecEnv,
        total_steps: u64,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<LearnSummary, TrainError> {
        let space = self.learner.check_fits(venv)?;
        let layout = self.learner.layout();
        let dist = self.learner.collective().clone();
        let (rank, ranks) = (dist.rank(), dist.size());
        let n = venv.num_envs();
        let num_steps = self.learner.config().num_steps;
        // Steps of all ranks: `total_steps` and the counters are the run's, not a rank's.
        let steps_per_update = (num_steps * n * ranks) as u64;
        let num_updates = num_updates(total_steps, steps_per_update);
        tracing::info!(
            num_envs = n,
            updates = num_updates,
            batch = steps_per_update,
            ranks,
            "PPO training"
        );
        let gae = GaeParams {
            gamma: self.learner.config().gamma,
            lambda: self.learner.config().gae_lambda,
        };
        // Rank r's sub-env i is seeded `seed + r·num_envs + i` (CaRL's scheme): the ranks
        // together step the envs one process with `ranks × num_envs` would.
        let first_seed =
            reset_seed(self.seed, self.progress.update).wrapping_add((rank * n) as u64);
        let first = venv.reset(Some(first_seed))?;
        if let Some(s) = self.shaper.as_mut() {
            s.reset(first)?;
        }
        let mut obs = first.obs.clone();
        // A finished run (resumed) keeps its observation statistics as they were saved.
        self.learner
            .normalize(&mut obs, self.progress.update < num_updates);
        let mut buffer = RolloutBuffer::new(n);
        let mut env_actions = vec![0.0; n * space.env_dim()];
        let mut truncation_values = vec![0.0f32; n];
        let start = Instant::now();
        let first_step = self.progress.global_step;
        let mut callback_seconds = 0.0f64;
        let mut stopped_early = false;
        let mut finished = Vec::new();
        // Rollouts run with the rollout count: set here, and again after each update.
        if let Some(t) = self.torch_threads {
            configure_torch_threads(t.rollout);
        }
        for update in self.progress.update..num_updates {
            // The per-update seed makes sampling resumable without saving torch's RNG.
            crate::seed_update(self.seed, update);
            buffer.clear();
            let rollout_start = Instant::now();
            for _ in 0..num_steps {
                let (actions, logp, values) = self.learner.act(&obs);
                self.learner
                    .env_actions(&actions, &space.low, &space.high, &mut env_actions);
                let b = venv.step(&env_actions)?;
                self.bootstrap_truncations(b, layout.dim, &mut truncation_values);
                let reward_at = buffer.len();
                self.learner.store_obs(&obs);
                buffer.push(StepRecord {
                    obs: &[],
                    actions: &actions,
                    logp: &logp,
                    values: &values,
                    rewards: &b.rewards,
                    terminated: &b.terminated,
                    ended: &b.ended,
                    truncation_values: &truncation_values,
                });
                if let Some(s) = self.shaper.as_mut() {
                    s.apply(b, &mut buffer.rewards, reward_at)?;
                }
                for (ep, ended) in b.final_info.episode.iter().zip(&b.ended) {
                    if let (Some(ep), true) = (ep, ended) {
                        finished.push(*ep);
                    }
                }
                obs.copy_from_slice(&b.obs);
                self.learner.normalize(&mut obs, true);
                self.progress.global_step += (n * ranks) as u64;
            }
            // Episode statistics are every rank's.
            for ep in gather_episodes(&finished, dist.as_ref()) {
                self.window.push(ep);
            }
            finished.clear();
            // Scores computed alongside the rollout join it here; then rewards are scaled
            // step by step in order, as they would have been inline.
            if let Some(s) = self.shaper.as_mut() {
                s.finish(&mut buffer.rewards)?;
            }
            for t in 0..num_steps {
                let r = buffer.step_start(t)..buffer.step_start(t + 1);
                self.learner
                    .scale_rewards(&mut buffer.rewards[r.clone()], &buffer.ended[r]);
            }
            buffer.finish(&self.learner.values(&obs), gae);
            let rollout_seconds = rollout_start.elapsed().as_secs_f64();
            let update_start = Instant::now();
            if let Some(t) = self.torch_threads {
                configure_torch_threads(t.update);
            }
            let stats = self
                .learner
                .update(&buffer, update as f64 / num_updates as f64);
            if let Some(t) = self.torch_threads {
                configure_torch_threads(t.rollout);
            }
            let update_seconds = update_start.elapsed().as_secs_f64();
            self.progress.update = update + 1;
            let stop_requested = crate::dist::any_rank(
                dist.as_ref(),
                self.stop.as_ref().is_some_and(|f| f.load(Ordering::SeqCst)),
            );
            let mut is_last = update + 1 == num_updates || stop_requested;
            stopped_early |= stop_requested;

            self.record_training(&stats);
            let callbacks_start = Instant::now();
            let mut callback_stop = false;
            for cb in callbacks.iter_mut() {
                let mut ctx = self.context(num_updates, is_last, &stats);
                callback_stop |= cb.on_update(&mut ctx)? == Control::Stop;
            }
            // A stop asked on one rank (rank 0's callbacks) stops them all.
            if crate::dist::any_rank(dist.as_ref(), callback_stop) {
                is_last = true;
                stopped_early = true;
            }
            callback_seconds += callbacks_start.elapsed().as_secs_f64();
            let sps = (self.progress.global_step - first_step) as f64
                / (start.elapsed().as_secs_f64() - callback_seconds);
            self.logger.record("charts/SPS", sps);
            // Where this update's wall time went: collecting the rollout (acting, env
            // steps, shaping, advantages) and learning from it.
            self.logger
                .record("charts/rollout_seconds", rollout_seconds);
            self.logger.record("charts/update_seconds", update_seconds);
            if ranks > 1 {
                self.logger
                    .record("charts/allreduce_seconds", stats.allreduce_seconds);
            }
            self.record_shaping();
            self.logger
                .dump(self.progress.global_step)
                .map_err(TrainError::Log)?;
            for cb in callbacks.iter_mut() {
                cb.on_logged(&mut self.context(num_updates, is_last, &stats))?;
            }
            if is_last && stopped_early {
                tracing::info!(
                    update = update + 1,
                    global_step = self.progress.global_step,
                    "stop requested: stopping after this update"
                );
                break;
            }
        }
        self.logger.finish().map_err(TrainError::Log)?;
        Ok(LearnSummary {
            global_step: self.progress.global_step,
            steps: self.progress.global_step - first_step,
            train_seconds: start.elapsed().as_secs_f64() - callback_seconds,
            callback_seconds,
            stopped_early,
            num_updates,
        })
    }

    /// What callbacks see after an update.
    fn context<'a>(
        &'a mut self,
        num_updates: u64,
        is_last: bool,
        stats: &'a UpdateStats,
    ) -> UpdateContext<'a> {
        UpdateContext {
            learner: &mut self.learner,
            logger: &mut self.logger,
            progress: &mut self.progress,
            num_updates,
            is_last,
            stats,
        }
    }

    /// V(final_obs) of the envs truncated (not terminated) at this step, 0 elsewhere.
    fn bootstrap_truncations(&self, b: &rapt_core::Batch, obs_dim: usize, out: &mut [f32]) {
        out.fill(0.0);
        let trunc: Vec<usize> = (0..b.num_envs)
            .filter(|&i| b.truncated[i] && !b.terminated[i])
            .collect();
        if trunc.is_empty() {
            return;
        }
        let mut fo: Vec<f32> = trunc
            .iter()
            .flat_map(|&i| b.final_obs[i * obs_dim..(i + 1) * obs_dim].iter().copied())
            .collect();
        self.learner.normalize_frozen(&mut fo);
        for (k, v) in self.learner.values(&fo).into_iter().enumerate() {
            out[trunc[k]] = v;
        }
    }

    /// CleanRL's training metrics, in CleanRL's order (`charts/SPS` is filled in once the
    /// callbacks' time is known).
    fn record_training(&mut self, stats: &UpdateStats) {
        let w = &self.window;
        let log = &mut self.logger;
        log.record("charts/episodic_return", w.mean(|e| e.ret));
        log.record("charts/episodic_length", w.mean(|e| f64::from(e.length)));
        log.record(
            "charts/success_rate",
            w.mean(|e| f64::from(u8::from(e.success_at_end))),
        );
        log.record("charts/SPS", f64::NAN);
        log.record("charts/learning_rate", stats.learning_rate);
        log.record("losses/value_loss", stats.value_loss);
        log.record("losses/policy_loss", stats.policy_loss);
        log.record("losses/entropy", stats.entropy);
        log.record("losses/old_approx_kl", stats.old_approx_kl);
        log.record("losses/approx_kl", stats.approx_kl);
        log.record("losses/clipfrac", stats.clipfrac);
        log.record("losses/explained_variance", stats.explained_variance);
    }

    /// The shaping's parts since the last row (NaN when the run is not shaped).
    fn record_shaping(&mut self) {
        let s = self.shaper.as_mut().map(|s| s.take());
        let (base, shaping, phi) = s.as_ref().map_or((f64::NAN, f64::NAN, f64::NAN), |s| {
            (s.base, s.shaping, s.phi)
        });
        self.logger.record("reward/base", base);
        self.logger.record("reward/shaping", shaping);
        self.logger.record("reward/phi", phi);
        // The progress model's own counters (a remote model's failures and latency).
        for (name, value) in s.iter().flat_map(|s| &s.model) {
            self.logger.record(&format!("reward/{name}"), *value);
        }
    }
}

/// Every rank's `local` episodes, in rank order (two collectives; `local` itself for one
/// process).
fn gather_episodes(local: &[EpisodeStats], dist: &dyn crate::Collective) -> Vec<EpisodeStats> {
    if dist.size() == 1 {
        return local.to_vec();
    }
    let flat: Vec<f64> = local
        .iter()
        .flat_map(|e| {
            [
                e.ret,
                f64::from(e.length),
                f64::from(u8::from(e.success_once)),
                f64::from(u8::from(e.success_at_end)),
                f64::from(u8::from(e.terminated)),
            ]
        })
        .collect();
    dist.all_gather_f64(&flat)
        .chunks_exact(5)
        .map(|e| EpisodeStats {
            ret: e[0],
            length: e[1] as u32,
            success_once: e[2] > 0.5,
            success_at_end: e[3] > 0.5,
            terminated: e[4] > 0.5,
        })
        .collect()
}

/// The last [`EpisodeWindow::LEN`] finished episodes, for logged means.
#[derive(Debug, Default, Clone)]
pub struct EpisodeWindow {
    episodes: std::collections::VecDeque<EpisodeStats>,
    total: u64,
}

impl EpisodeWindow {
    /// Episodes averaged (100, as SB3's `ep_info_buffer`).
    pub const LEN: usize = 100;

    /// Add a finished episode, dropping the oldest beyond [`EpisodeWindow::LEN`].
    pub fn push(&mut self, ep: EpisodeStats) {
        if self.episodes.len() == Self::LEN {
            self.episodes.pop_front();
        }
        self.episodes.push_back(ep);
        self.total += 1;
    }

    /// Mean of `f` over the window; NaN when it is empty.
    pub fn mean(&self, f: impl Fn(&EpisodeStats) -> f64) -> f64 {
        if self.episodes.is_empty() {
            return f64::NAN;
        }
        self.episodes.iter().map(f).sum::<f64>() / self.episodes.len() as f64
    }

    /// Episodes in the window.
    pub fn len(&self) -> usize {
        self.episodes.len()
    }

    /// Whether no episode has finished yet.
    pub fn is_empty(&self) -> bool {
        self.episodes.is_empty()
    }

    /// Episodes pushed in all.
    pub fn total(&self) -> u64 {
        self.total
    }
}

/// `[3, 64, 64] image + 12 values` or `30 values`.
fn describe(layout: ObsLayout) -> String {
    match layout.image {
        Some(shape) => format!("{shape:?} image + {} values", layout.vector_dim()),
        None => format!("of {} values", layout.dim),
    }
}
