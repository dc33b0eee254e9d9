//! A reward-model training run in a run directory, as `rapt_run` runs PPO in one: a
//! new run from datasets and a config, or a saved run resumed from its newest intact
//! checkpoint; its epochs trained with metrics to TensorBoard and checkpoints in
//! `checkpoints/epoch-NNNN`; the model saved as `RUN/model`.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use rapt_rundir::{Logger, RunDir, TensorBoardSink};
use tch::Device;

use crate::train::checkpoint_dir;
use crate::{
    DatasetError, EpochStats, RewardModelConfig, RewardModelTrainError, RewardModelTrainer,
};

/// How a reward-model run starts.
#[derive(Debug, Clone, PartialEq)]
pub enum RewardModelStart {
    /// A new run on `datasets` with `config`, in `run_dir` (default: a new
    /// `runs/rm-<env>-<UTC stamp>`).
    New {
        /// Dataset directories (same views and frame size).
        datasets: Vec<PathBuf>,
        /// Training settings.
        config: RewardModelConfig,
        /// The run directory to claim; it must hold no reward-model run yet.
        run_dir: Option<PathBuf>,
    },
    /// Continue the run in `run_dir` from its newest intact checkpoint.
    Resume {
        /// The run directory.
        run_dir: PathBuf,
    },
}

/// A reward-model run ready to train ([`RewardModelRun::start`]).
#[derive(Debug)]
pub struct RewardModelRun {
    trainer: RewardModelTrainer,
    run: RunDir,
    skipped: Vec<DatasetError>,
    resumed: bool,
}

impl RewardModelRun {
    /// Start the run `start` describes on `device`: datasets read (corrupted episode
    /// files left out and listed in [`RewardModelRun::skipped`] with `skip_corrupt`, an error
    /// otherwise), the run directory claimed and, for a new run, its `config.ron` saved.
    /// Nothing is written before the datasets and settings have been read.
    pub fn start(
        start: &RewardModelStart,
        skip_corrupt: bool,
        device: Device,
    ) -> Result<Self, RewardModelTrainError> {
        match start {
            RewardModelStart::Resume { run_dir } => {
                let run = RunDir::claim(run_dir)?;
                let (trainer, skipped) =
                    RewardModelTrainer::resume_run(run_dir, skip_corrupt, device)?;
                Ok(Self {
                    trainer,
                    run,
                    skipped,
                    resumed: true,
                })
            }
            RewardModelStart::New {
                datasets,
                config,
                run_dir,
            } => {
                if datasets.is_empty() {
                    return Err(RewardModelTrainError::Invalid(
                        "a dataset is required".into(),
                    ));
                }
                let (tasks, skipped) =
                    crate::read_task_datasets(datasets, skip_corrupt).map_err(|e| {
                        RewardModelTrainError::Invalid(format!(
                            "reading datasets {datasets:?}: {e}"
                        ))
                    })?;
                let trainer = RewardModelTrainer::new(config.clone(), datasets, &tasks, device)?;
                let run = match run_dir {
                    Some(dir) => {
                        if checkpoint_dir(dir).latest().is_some() {
                            return Err(RewardModelTrainError::Invalid(format!(
                                "{} already holds a reward-model run: use --resume {} or another --run-dir",
                                dir.display(),
                                dir.display()
                            )));
                        }
                        RunDir::claim(dir)?
                    }
                    None => RunDir::create_new(
                        Path::new("runs"),
                        &format!("rm-{}", trainer.model().meta().env.to_lowercase()),
                    )?,
                };
                let text = rapt_config::to_ron(config).map_err(|e| {
                    RewardModelTrainError::Invalid(format!("serializing the config: {e}"))
                })?;
                run.write_atomic("config.ron", text.as_bytes())?;
                Ok(Self {
                    trainer,
                    run,
                    skipped,
                    resumed: false,
                })
            }
        }
    }

    /// Train for `epochs` epochs in all (more to extend a finished run, fewer to stop a
    /// resumed one early); at least 1.
    pub fn set_epochs(&mut self, epochs: usize) {
        self.trainer.set_epochs(epochs);
    }

    /// The trainer (sizes, progress, the model).
    pub fn trainer(&self) -> &RewardModelTrainer {
        &self.trainer
    }

    /// The run directory.
    pub fn path(&self) -> &Path {
        self.run.path()
    }

    /// Episode files left out as corrupted.
    pub fn skipped(&self) -> &[DatasetError] {
        &self.skipped
    }

    /// Whether it continues a saved run.
    pub fn resumed(&self) -> bool {
        self.resumed
    }

    /// Train the remaining epochs (`train/loss`, `val/mae`, `val/stage_accuracy` to
    /// `RUN/tensorboard` at step = epoch; `on_epoch` sees each epoch's figures), stopping
    /// after the current epoch's checkpoint once `stop` is set. Returns the saved model's
    /// directory (`RUN/model`) when every epoch is done, `None` when stopped early.
    pub fn train(
        &mut self,
        stop: &AtomicBool,
        on_epoch: impl FnMut(&EpochStats),
    ) -> Result<Option<PathBuf>, RewardModelTrainError> {
        let done = self.trainer.progress().epochs_done;
        let tb =
            TensorBoardSink::create(&self.run.tensorboard(), (done > 0).then_some(done as u64))
                .map_err(RewardModelTrainError::Log)?;
        let mut logger = Logger::new().with_sink(tb);
        if !self.trainer.fit(&self.run, &mut logger, stop, on_epoch)? {
            return Ok(None);
        }
        let model_dir = self.run.join("model");
        self.trainer.model().save(&model_dir)?;
        Ok(Some(model_dir))
    }
}
