//! The callbacks a training run usually wants (SB3's `EvalCallback`,
//! `CheckpointCallback`, `StopTrainingOnRewardThreshold`).

use std::path::PathBuf;
use std::time::Instant;

use rapt_core::VecEnv;
use rapt_shaping::Shaper;

use rapt_rundir::CheckpointDir;

use crate::{
    Callback, Control, EvalOptions, Evaluation, Learner, TrainError, UpdateContext, read_progress,
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
        self.evaluate_observed(learner, episodes, base, &mut |_| Ok(()))
    }

    /// [`EvalCallback::evaluate`], given up with [`TrainError::Stopped`] within a step
    /// once `stop` is set (a signal during a long final evaluation).
    pub fn evaluate_unless_stopped(
        &mut self,
        learner: &mut Learner,
        episodes: usize,
        base: u64,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<Evaluation, TrainError> {
        self.evaluate_observed(learner, episodes, base, &mut |_| match stop
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            true => Err(TrainError::Stopped),
            false => Ok(()),
        })
    }

    /// Deterministic episodes from seeds `EVAL_SEED_OFFSET + base`, timed, `observer`
    /// seeing every step.
    fn evaluate_observed(
        &mut self,
        learner: &mut Learner,
        episodes: usize,
        base: u64,
        observer: &mut dyn FnMut(crate::EvalStep<'_>) -> Result<(), TrainError>,
    ) -> Result<Evaluation, TrainError> {
        let start = Instant::now();
        let options = EvalOptions {
            episodes,
            base,
            stochastic: false,
        };
        let eval = crate::evaluate_policy_observed(
            learner,
            self.venv.as_mut(),
            options,
            self.shaper.as_mut(),
            observer,
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
    dir: CheckpointDir,
    every_updates: u64,
    keep: usize,
}

impl CheckpointCallback {
    /// Checkpoints into `dir` (created when first needed).
    pub fn new(dir: PathBuf, every_updates: usize, keep: usize) -> Self {
        Self {
            dir: CheckpointDir::updates(dir),
            every_updates: every_updates.max(1) as u64,
            keep: keep.max(1),
        }
    }
}

impl Callback for CheckpointCallback {
    fn on_logged(&mut self, ctx: &mut UpdateContext<'_>) -> Result<(), TrainError> {
        let update = ctx.progress.update;
        if update.is_multiple_of(self.every_updates) || ctx.is_last {
            std::fs::create_dir_all(self.dir.dir()).map_err(|e| TrainError::Io {
                path: self.dir.dir().to_path_buf(),
                source: e,
            })?;
            ctx.learner
                .save_checkpoint(&self.dir.path_of(update), *ctx.progress)?;
            self.dir.prune(self.keep)?;
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
