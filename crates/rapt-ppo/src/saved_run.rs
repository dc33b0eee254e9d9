//! A PPO run directory after the fact: continuing it from its newest intact checkpoint
//! ([`resume_run`]) and exporting its policy ([`export_policy`]).

use std::path::{Path, PathBuf};

use rapt_rundir::{CheckpointDir, RunDir, locate_checkpoint};

use crate::{Learner, PpoConfig, Progress, TrainError, read_progress};

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
    if let Some(newest) = rapt_rundir::CheckpointDir::updates(&dir).latest()
        && crate::is_policy_only(&newest)
    {
        return Err(TrainError::Invalid(format!(
            "cannot resume {}: {} is a policy exported without optimizer state (`rapt export`); it evaluates (`rapt eval {}`) but cannot continue training: resume the run it was exported from",
            run.path().display(),
            newest.display(),
            run.path().display()
        )));
    }
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
/// `config.ron` and `checkpoints/update-NNNNNN/` (named by its update, also from `best`) holding the weights, the observation and reward
/// statistics and the counters, without optimizer state ([`Learner::save_policy`]).
/// `rapt eval OUT` and [`rapt_rundir::locate_checkpoint`] read it as they read the run. Returns the
/// checkpoint written. Refuses an `out` that already holds anything.
pub fn export_policy(target: &Path, out: &Path) -> Result<PathBuf, TrainError> {
    let (run_dir, checkpoint) = locate_checkpoint(target, CheckpointDir::updates)?;
    if out.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        return Err(TrainError::Invalid(format!(
            "{} is not empty: export into a new directory",
            out.display()
        )));
    }
    let (learner, progress) = Learner::load_checkpoint(&checkpoint, tch::Device::Cpu)?;
    // Named by its update (also when exported from `best`), so that `rapt eval OUT`
    // finds it as a run's newest checkpoint.
    let dest = CheckpointDir::updates(out.join("checkpoints")).path_of(progress.update);
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
