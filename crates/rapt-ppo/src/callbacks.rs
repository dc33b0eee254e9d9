//! The callbacks a training run usually wants (SB3's `EvalCallback`,
//! `CheckpointCallback`, `StopTrainingOnRewardThreshold`), and resuming a run directory.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rapt_core::VecEnv;
use rapt_reward::Shaper;

use crate::{
    Callback, Control, EvalOptions, Evaluation, Learner, PpoConfig, Progress, RunDir, TrainError,
    UpdateContext, evaluate_policy, latest_checkpoint, prune_checkpoints, read_progress,
};

/// Periodic deterministic evaluation on held-out seeds (`EVAL_SEED_OFFSET + update + i`),
/// logged as `eval/success_rate`, `eval/mean_return` and `eval/<metric>` for every env
/// metric (the last values are repeated on every row until the next evaluation); the
/// best policy so far is saved as a checkpoint when a directory is given.
pub struct EvalCallback {
    venv: Box<dyn VecEnv>,
    shaper: Option<Shaper>,
    every_updates: usize,
    episodes: usize,
    best_dir: Option<PathBuf>,
    best: Option<f64>,
    last: Vec<(String, f64)>,
    seconds: f64,
}

impl std::fmt::Debug for EvalCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalCallback")
            .field("every_updates", &self.every_updates)
            .field("episodes", &self.episodes)
            .field("best_dir", &self.best_dir)
            .finish_non_exhaustive()
    }
}

impl EvalCallback {
    /// Evaluate `episodes` episodes on `venv` every `every_updates` updates (0: never;
    /// the last update is left to a final evaluation).
    pub fn new(venv: Box<dyn VecEnv>, episodes: usize, every_updates: usize) -> Self {
        let mut last = vec![("eval/mean_return".to_string(), f64::NAN)];
        last.extend(
            venv.info_layout()
                .metrics
                .iter()
                .map(|m| (format!("eval/{m}"), f64::NAN)),
        );
        Self {
            venv,
            shaper: None,
            every_updates,
            episodes,
            best_dir: None,
            best: None,
            last,
            seconds: 0.0,
        }
    }

    /// Also report the shaping terms of evaluation episodes (`eval/shaping_return`), from
    /// this shaper of the evaluation env.
    pub fn with_shaper(mut self, shaper: Option<Shaper>) -> Self {
        if shaper.is_some() {
            self.last.push(("eval/shaping_return".into(), f64::NAN));
        }
        self.shaper = shaper;
        self
    }

    /// Save the best policy so far into `dir` (a checkpoint; its success rate is read
    /// back from there when a run resumes).
    pub fn save_best(mut self, dir: PathBuf) -> Self {
        self.best = read_progress(&dir).ok().and_then(|p| p.last_eval);
        self.best_dir = Some(dir);
        self
    }

    /// Evaluate `learner` now: `episodes` episodes from seeds `EVAL_SEED_OFFSET + base`.
    pub fn evaluate(
        &mut self,
        learner: &mut Learner,
        episodes: usize,
        base: u64,
    ) -> Result<Evaluation, TrainError> {
        let start = Instant::now();
        let eval = evaluate_policy(
            learner,
            self.venv.as_mut(),
            EvalOptions {
                episodes,
                base,
                stochastic: false,
            },
            self.shaper.as_mut(),
        );
        self.seconds += start.elapsed().as_secs_f64();
        eval
    }

    /// Wall time spent evaluating, s.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }
}

impl Callback for EvalCallback {
    fn on_update(&mut self, ctx: &mut UpdateContext<'_>) -> Result<Control, TrainError> {
        let update = ctx.progress.update;
        let due = self.every_updates > 0 && update.is_multiple_of(self.every_updates as u64);
        if due && !ctx.is_last {
            let eval = self.evaluate(ctx.learner, self.episodes, update - 1)?;
            ctx.progress.last_eval = Some(eval.success_rate);
            self.last[0].1 = eval.mean_return;
            for (slot, (_, value)) in self.last[1..].iter_mut().zip(&eval.metrics) {
                slot.1 = *value;
            }
            if let (Some(v), Some(slot)) = (eval.mean_shaping_return, self.last.last_mut()) {
                slot.1 = v;
            }
            if let Some(dir) = &self.best_dir
                && self.best.is_none_or(|best| eval.success_rate > best)
            {
                self.best = Some(eval.success_rate);
                ctx.learner.save_checkpoint(dir, *ctx.progress)?;
            }
        }
        ctx.logger.record(
            "eval/success_rate",
            ctx.progress.last_eval.unwrap_or(f64::NAN),
        );
        for (name, value) in &self.last {
            ctx.logger.record(name, *value);
        }
        Ok(Control::Continue)
    }
}

/// Save a checkpoint `dir/update-NNNNNN` every `every_updates` updates and after the last
/// one, keeping the newest `keep` (SB3's `CheckpointCallback`).
#[derive(Debug, Clone)]
pub struct CheckpointCallback {
    dir: PathBuf,
    every_updates: u64,
    keep: usize,
}

impl CheckpointCallback {
    /// Checkpoints into `dir` (created when first needed).
    pub fn new(dir: PathBuf, every_updates: usize, keep: usize) -> Self {
        Self {
            dir,
            every_updates: every_updates.max(1) as u64,
            keep: keep.max(1),
        }
    }
}

impl Callback for CheckpointCallback {
    fn on_logged(&mut self, ctx: &mut UpdateContext<'_>) -> Result<(), TrainError> {
        let update = ctx.progress.update;
        if update.is_multiple_of(self.every_updates) || ctx.is_last {
            std::fs::create_dir_all(&self.dir).map_err(|e| TrainError::Io {
                path: self.dir.clone(),
                source: e,
            })?;
            ctx.learner
                .save_checkpoint(&self.dir.join(format!("update-{update:06}")), *ctx.progress)?;
            prune_checkpoints(&self.dir, "update-", self.keep)?;
        }
        Ok(())
    }
}

/// Stop the run once an evaluation reaches `threshold` success (SB3's
/// `StopTrainingOnRewardThreshold`, on the success rate). Put it after the
/// [`EvalCallback`] whose result it reads.
#[derive(Debug, Clone, Copy)]
pub struct StopOnSuccess {
    /// Success rate in [0, 1] that ends the run.
    pub threshold: f64,
}

impl Callback for StopOnSuccess {
    fn on_update(&mut self, ctx: &mut UpdateContext<'_>) -> Result<Control, TrainError> {
        Ok(match ctx.progress.last_eval {
            Some(s) if s >= self.threshold => Control::Stop,
            _ => Control::Continue,
        })
    }
}

/// Load the newest checkpoint of the PPO run in `run` to continue it: the learner (whose
/// settings must equal `config`, the run's saved PPO config) and its counters. What the
/// killed process logged after that checkpoint is dropped from `metrics.csv`, and a
/// `best` checkpoint newer than it is removed (that work is done again). `None` when the
/// run has no checkpoint yet: it starts over from update 0, its `metrics.csv` emptied.
pub fn resume_run(
    run: &RunDir,
    config: &PpoConfig,
    device: tch::Device,
) -> Result<Option<(Learner, Progress)>, TrainError> {
    let dir = run.checkpoints();
    let Some((learner, progress, ckpt)) = Learner::load_newest_checkpoint(&dir, device)? else {
        // A run stopped before its first checkpoint: nothing it logged can be continued.
        tracing::warn!(
            run = %run.path().display(),
            "no checkpoint in {}: starting the run over from update 0",
            dir.display()
        );
        run.trim_metrics(0)?;
        return Ok(None);
    };
    if learner.config() != config {
        return Err(TrainError::Invalid(format!(
            "cannot resume {}: the checkpoint's PPO settings differ from {}",
            ckpt.display(),
            run.join("config.ron").display()
        )));
    }
    tracing::info!(checkpoint = %ckpt.display(), global_step = progress.global_step, update = progress.update, "resuming");
    run.trim_metrics(progress.global_step)?;
    let best = dir.join("best");
    if read_progress(&best).is_ok_and(|b| b.global_step > progress.global_step) {
        std::fs::remove_dir_all(&best).map_err(|e| TrainError::Io {
            path: best.clone(),
            source: e,
        })?;
    }
    Ok(Some((learner, progress)))
}

/// Write the policy of `target` — a run directory (its newest checkpoint) or a checkpoint
/// inside one — into `out` as a small, self-contained run directory: the run's
/// `config.ron` and `checkpoints/<name>/` holding the weights, the observation and reward
/// statistics and the counters, without optimizer state ([`Learner::save_policy`]).
/// `rapt eval OUT` and [`locate_checkpoint`] read it as they read the run. Returns the
/// checkpoint written. Refuses an `out` that already holds anything.
pub fn export_policy(target: &Path, out: &Path) -> Result<PathBuf, TrainError> {
    let (run_dir, checkpoint) = locate_checkpoint(target)?;
    if out.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        return Err(TrainError::Invalid(format!(
            "{} is not empty: export into a new directory",
            out.display()
        )));
    }
    let (learner, progress) = Learner::load_checkpoint(&checkpoint, tch::Device::Cpu)?;
    let name = checkpoint
        .file_name()
        .ok_or_else(|| TrainError::Invalid(format!("{} has no name", checkpoint.display())))?;
    let dest = out.join("checkpoints").join(name);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TrainError::Io { path, source }
    };
    std::fs::create_dir_all(out.join("checkpoints")).map_err(io(out))?;
    let config = run_dir.join("config.ron");
    std::fs::copy(&config, out.join("config.ron")).map_err(io(&config))?;
    learner.save_policy(&dest, progress)?;
    Ok(dest)
}

/// The newest checkpoint of the run in `run_dir` (or `run_dir` itself when it is a
/// checkpoint inside a run): (run directory, checkpoint).
pub fn locate_checkpoint(target: &Path) -> Result<(PathBuf, PathBuf), TrainError> {
    if target.join("config.ron").exists() {
        let dir = target.join("checkpoints");
        let checkpoint = latest_checkpoint(&dir)
            .ok_or_else(|| TrainError::Invalid(format!("no checkpoint in {}", dir.display())))?;
        return Ok((target.to_path_buf(), checkpoint));
    }
    let run_dir = target
        .parent()
        .and_then(Path::parent)
        .filter(|d| d.join("config.ron").exists())
        .ok_or_else(|| {
            TrainError::Invalid(format!(
                "{} is neither a run directory (with config.ron) nor a checkpoint inside one",
                target.display()
            ))
        })?;
    Ok((run_dir.to_path_buf(), target.to_path_buf()))
}
