//! Training a reward model on a recorded dataset: stage cross-entropy + within-stage
//! progress regression + Φ regression, with view dropout; per-epoch checkpoints that a
//! resumed run continues from exactly.

use std::fs;
use std::path::{Path, PathBuf};

use rapt_ppo::{AdamConfig, AdamState, FlatAdam};
use rapt_rundir::CheckpointDir;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Reduction, Tensor};
use thiserror::Error;

use crate::model::{NetConfig, NetShape};
use crate::reward_model::{MODEL_FORMAT, ModelError, ModelMeta, RewardModel};
use crate::samples::{FrameBatch, Samples, view_dropout_mask};
use crate::tasks::TaskData;

const OPTIMIZER: &str = "optimizer.safetensors";
const PROGRESS: &str = "progress.json";

/// `rapt reward-model train --config`: every field optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RewardModelConfig {
    /// The network (default: 3 convs of 16/32/32 channels, 128 features, mean fusion).
    pub net: NetConfig,
    /// Adam learning rate (default 1e-3).
    pub learning_rate: f64,
    /// Frame sets per minibatch (default 256).
    pub batch_size: usize,
    /// Passes over the training episodes (default 15).
    pub epochs: usize,
    /// Probability of dropping each view of a training sample, at least one kept
    /// (default 0.25).
    pub view_dropout: f64,
    /// Weight of the within-stage progress loss (MSE on the true stage; default 1).
    pub progress_weight: f64,
    /// Weight of the Φ loss (MSE of the combined Φ against the oracle; default 1).
    pub phi_weight: f64,
    /// Fraction of episodes held out for validation after each epoch (default 0.1).
    pub validation_fraction: f64,
    /// Seed of initialisation, the split and the shuffles (default 1).
    pub seed: u64,
}

impl Default for RewardModelConfig {
    fn default() -> Self {
        Self {
            net: NetConfig::default(),
            learning_rate: 1e-3,
            batch_size: 256,
            epochs: 15,
            view_dropout: 0.25,
            progress_weight: 1.0,
            phi_weight: 1.0,
            validation_fraction: 0.1,
            seed: 1,
        }
    }
}

impl RewardModelConfig {
    /// Load, with `--set`-style `overrides`, and validate the config file at `path`:
    /// every mistake names `path:line:column` and the field (`rapt_config::load`).
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, rapt_config::ConfigError> {
        Ok(rapt_config::load(path, overrides)?.config)
    }

    /// Parse and validate RON `text` (shown in messages as `<config>`).
    pub fn from_ron(text: &str) -> Result<Self, rapt_config::ConfigError> {
        Ok(rapt_config::from_str(text, "<config>", &[])?.config)
    }

    /// Every out-of-range field, as `field: message`.
    pub fn problems(&self) -> Vec<String> {
        let mut v = rapt_config::Validator::new();
        rapt_config::Validate::validate(self, &mut v);
        v.problems().iter().map(|p| p.to_string()).collect()
    }
}

impl rapt_config::Validate for RewardModelConfig {
    fn validate(&self, v: &mut rapt_config::Validator) {
        v.check(
            "learning_rate",
            self.learning_rate > 0.0 && self.learning_rate.is_finite(),
            format!("= {} must be > 0", self.learning_rate),
        );
        v.positive("batch_size", self.batch_size);
        v.positive("epochs", self.epochs);
        v.check(
            "view_dropout",
            (0.0..1.0).contains(&self.view_dropout),
            format!("= {} must be in [0, 1)", self.view_dropout),
        );
        v.check(
            "validation_fraction",
            (0.0..0.9).contains(&self.validation_fraction),
            format!("= {} must be in [0, 0.9)", self.validation_fraction),
        );
        v.check(
            "net.channels",
            !self.net.channels.is_empty() && self.net.channels.iter().all(|&c| c > 0),
            "must be a non-empty list of positive sizes",
        );
        v.check(
            "net",
            self.net.features > 0 && self.net.hidden > 0,
            "net.features and net.hidden must be positive",
        );
    }
}

/// Why training stopped.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RewardModelTrainError {
    /// A model or checkpoint file.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Bad settings or data.
    #[error("{0}")]
    Invalid(String),
    /// The run directory could not be used.
    #[error(transparent)]
    RunDir(#[from] rapt_rundir::RunDirError),
    /// A checkpoint directory could not be listed or pruned, or a checkpoint written.
    #[error(transparent)]
    Checkpoint(#[from] rapt_rundir::CheckpointDirError),
    /// Writing metrics failed.
    #[error("writing metrics: {0}")]
    Log(std::io::Error),
}

impl From<rapt_rundir::FileError> for RewardModelTrainError {
    fn from(e: rapt_rundir::FileError) -> Self {
        Self::Checkpoint(e.into())
    }
}

/// Epoch checkpoints a run keeps (the newest).
pub const KEEP_CHECKPOINTS: usize = 3;

impl std::fmt::Display for EpochStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "loss {:.4}, validation MAE {:.4}, stage accuracy {:.3}",
            self.loss, self.val_mae, self.val_stage_accuracy
        )
    }
}

/// Losses and validation figures after an epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// Epochs done (1-based).
    pub epoch: usize,
    /// Optimizer steps done.
    pub step: u64,
    /// Mean training loss over the epoch.
    pub loss: f64,
    /// Mean |Φ̂ − Φ| on the validation episodes (NaN without any; JSON null).
    #[serde(deserialize_with = "nan_from_null")]
    pub val_mae: f64,
    /// Stage accuracy on the validation episodes (NaN without any; JSON null).
    #[serde(deserialize_with = "nan_from_null")]
    pub val_stage_accuracy: f64,
}

/// serde_json writes NaN as `null`; read it back as NaN (for
/// `#[serde(deserialize_with = "…")]` on f64 fields that may be NaN).
pub fn nan_from_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The losses of one batch: (total, stage CE, within-stage MSE, Φ MSE).
pub fn losses(
    model: &RewardModel,
    batch: &FrameBatch,
    mask: Option<&Tensor>,
    cfg: &RewardModelConfig,
) -> (Tensor, Tensor, Tensor, Tensor) {
    let stages = model.meta().shape.stages;
    let out = model
        .net()
        .forward(&batch.frames, mask, batch.task.as_ref());
    let ce = out.stage_logits.cross_entropy_for_logits(&batch.stage);
    // Within-stage progress of the true stage (the done class has none).
    let in_stage = match &out.row_stages {
        Some(rows) => batch.stage.lt_tensor(rows),
        None => batch.stage.lt(stages as i64),
    };
    let idx = batch.stage.clamp_max(stages as i64 - 1).unsqueeze(1);
    let pred = out.stage_progress.gather(1, &idx, false).squeeze_dim(1);
    let w = in_stage.to_kind(Kind::Float);
    let within = ((pred - &batch.stage_progress).square() * &w).sum(Kind::Float)
        / w.sum(Kind::Float).clamp_min(1.0);
    let phi = out.phi(stages).mse_loss(&batch.phi, Reduction::Mean);
    let total = &ce + &within * cfg.progress_weight + &phi * cfg.phi_weight;
    (total, ce, within, phi)
}

/// Validation MAE and stage accuracy of `model` on `samples`.
pub fn validate(model: &RewardModel, samples: &Samples) -> (f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let (phi, stage) = crate::eval::predict(model, samples);
    let n = samples.len();
    let abs = (phi - &samples.phi)
        .abs()
        .sum(Kind::Float)
        .double_value(&[]);
    let correct = stage
        .eq_tensor(&samples.stage)
        .sum(Kind::Float)
        .double_value(&[]);
    (abs / n as f64, correct / n as f64)
}

/// Where training stands, saved with every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainProgress {
    /// The configuration (a resumed run uses this one).
    pub config: RewardModelConfig,
    /// The datasets trained on (same views and frame size).
    pub datasets: Vec<PathBuf>,
    /// Epochs completed.
    pub epochs_done: usize,
    /// Adam steps taken.
    pub adam_step: u64,
    /// Stats of every finished epoch.
    pub history: Vec<EpochStats>,
}

/// A training run in progress.
#[derive(Debug)]
pub struct RewardModelTrainer {
    model: RewardModel,
    adam: FlatAdam,
    progress: TrainProgress,
    train: Samples,
    val: Samples,
}

impl RewardModelTrainer {
    /// A new run on the episodes of the datasets at `datasets`, grouped by task
    /// ([`crate::read_task_datasets`]): a model of one task, or a task-conditioned model
    /// when the datasets hold several.
    pub fn new(
        cfg: RewardModelConfig,
        datasets: &[PathBuf],
        tasks: &[TaskData],
        device: Device,
    ) -> Result<Self, RewardModelTrainError> {
        let problems = cfg.problems();
        if !problems.is_empty() {
            return Err(RewardModelTrainError::Invalid(format!(
                "reward-model config: {}",
                problems.join("; ")
            )));
        }
        tch::manual_seed(cfg.seed as i64);
        let model = RewardModel::new(meta_for(tasks, &cfg), device);
        let adam = FlatAdam::new(model.var_store(), AdamConfig::default());
        let progress = TrainProgress {
            config: cfg,
            datasets: datasets.to_vec(),
            epochs_done: 0,
            adam_step: 0,
            history: Vec::new(),
        };
        Self::assemble(model, adam, progress, tasks)
    }

    fn assemble(
        model: RewardModel,
        adam: FlatAdam,
        progress: TrainProgress,
        tasks: &[TaskData],
    ) -> Result<Self, RewardModelTrainError> {
        if tasks.iter().all(|t| t.episodes.is_empty()) {
            return Err(RewardModelTrainError::Invalid(format!(
                "{:?}: the datasets have no episodes",
                progress.datasets
            )));
        }
        let device = model.device();
        // Episodes are split by their index across all tasks, in order (for one task, as
        // before task-conditioned models existed).
        let (mut train, mut val) = (Vec::new(), Vec::new());
        let mut offset = 0;
        for t in tasks {
            let index = model.meta().task_index(&t.info.name)?;
            let (tr, va) = split(
                &t.episodes,
                offset,
                progress.config.validation_fraction,
                progress.config.seed,
            );
            offset += t.episodes.len();
            train.push(Samples::for_task(&t.manifest, &tr, index, device));
            val.push(Samples::for_task(&t.manifest, &va, index, device));
        }
        let (mut train, mut val) = (Samples::concat(train), Samples::concat(val));
        if train.is_empty() {
            std::mem::swap(&mut train, &mut val);
        }
        if val.is_empty() && progress.config.validation_fraction > 0.0 {
            tracing::warn!(
                "the validation split is empty ({offset} episodes, validation_fraction {}): \
                 val/mae and val/stage_accuracy will be NaN; record more episodes",
                progress.config.validation_fraction
            );
        }
        Ok(Self {
            train,
            val,
            model,
            adam,
            progress,
        })
    }

    /// Continue the reward-model run in directory `run` from its newest checkpoint, on the
    /// datasets it was trained on (with `skip_corrupt`, corrupted episode files are left
    /// out and returned).
    pub fn resume_run(
        run: &Path,
        skip_corrupt: bool,
        device: Device,
    ) -> Result<(Self, Vec<crate::DatasetError>), RewardModelTrainError> {
        checkpoint_dir(run)
            .load_newest(|ckpt| Self::resume_from(ckpt, skip_corrupt, device))?
            .map(|(resumed, _)| resumed)
            .ok_or_else(|| {
                RewardModelTrainError::Invalid(format!(
                    "cannot resume {}: no checkpoints/epoch-* in it",
                    run.display()
                ))
            })
    }

    fn resume_from(
        ckpt: &Path,
        skip_corrupt: bool,
        device: Device,
    ) -> Result<(Self, Vec<crate::DatasetError>), RewardModelTrainError> {
        let path = ckpt.join(PROGRESS);
        let progress: TrainProgress = fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
            .map_err(|message| ModelError::Corrupt { path, message })?;
        let (tasks, skipped) = crate::read_task_datasets(&progress.datasets, skip_corrupt)
            .map_err(|e| RewardModelTrainError::Invalid(e.to_string()))?;
        Ok((Self::resume(ckpt, &tasks, device)?, skipped))
    }

    /// Continue the run whose newest checkpoint is `checkpoint`, on its datasets' `tasks`.
    pub fn resume(
        checkpoint: &Path,
        tasks: &[TaskData],
        device: Device,
    ) -> Result<Self, RewardModelTrainError> {
        let model = RewardModel::load(checkpoint, device)?;
        let path = checkpoint.join(PROGRESS);
        let text = fs::read_to_string(&path).map_err(|e| ModelError::Io {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let corrupt = |e: serde_json::Error| ModelError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        };
        let mut value: serde_json::Value = serde_json::from_str(&text).map_err(corrupt)?;
        let digests = crate::reward_model::take_digests(&mut value).map_err(corrupt)?;
        let progress: TrainProgress = serde_json::from_value(value).map_err(corrupt)?;
        crate::reward_model::verify(checkpoint, &digests)?;
        let mut adam = FlatAdam::new(model.var_store(), AdamConfig::default());
        let opt = checkpoint.join(OPTIMIZER);
        let corrupt = |message: String| ModelError::Corrupt {
            path: opt.clone(),
            message,
        };
        let mut moments = Tensor::read_safetensors(&opt).map_err(|e| corrupt(e.to_string()))?;
        moments.sort_by(|a, b| a.0.cmp(&b.0));
        let [(_, exp_avg), (_, exp_avg_sq)]: [(String, Tensor); 2] = moments
            .try_into()
            .map_err(|_| corrupt("expected exp_avg and exp_avg_sq".into()))?;
        adam.set_state(AdamState {
            exp_avg: exp_avg.to_device(device),
            exp_avg_sq: exp_avg_sq.to_device(device),
            step: progress.adam_step,
        })
        .map_err(|e| corrupt(e.0))?;
        Self::assemble(model, adam, progress, tasks)
    }

    /// Train for `epochs` epochs in all (more to extend a finished run, fewer to stop a
    /// resumed one early); at least 1.
    pub fn set_epochs(&mut self, epochs: usize) {
        self.progress.config.epochs = epochs.max(1);
    }

    /// Where training stands.
    pub fn progress(&self) -> &TrainProgress {
        &self.progress
    }

    /// The model being trained.
    pub fn model(&self) -> &RewardModel {
        &self.model
    }

    /// Frame sets used for training and for validation.
    pub fn sizes(&self) -> (usize, usize) {
        (self.train.len(), self.val.len())
    }

    /// Run one epoch; `on_batch(done, total)` is called after each minibatch.
    pub fn epoch(&mut self, mut on_batch: impl FnMut(usize, usize)) -> EpochStats {
        let cfg = self.progress.config.clone();
        let epoch = self.progress.epochs_done;
        // Shuffles and dropout depend only on (seed, epoch): a resumed run repeats them.
        tch::manual_seed((cfg.seed as i64).wrapping_mul(1_000_003) + epoch as i64);
        let device = self.model.device();
        let n = self.train.len() as i64;
        let perm = Tensor::randperm(n, (Kind::Int64, device));
        let bs = cfg.batch_size as i64;
        let batches = ((n + bs - 1) / bs) as usize;
        let v = self.model.meta().shape.views.len() as i64;
        let mut loss_sum = 0.0;
        for k in 0..batches {
            let start = k as i64 * bs;
            let idx = perm.slice(0, start, (start + bs).min(n), 1);
            let batch = self.train.batch(&idx);
            let b = idx.size()[0];
            let mask =
                (cfg.view_dropout > 0.0).then(|| view_dropout_mask(b, v, cfg.view_dropout, device));
            let (loss, ..) = losses(&self.model, &batch, mask.as_ref(), &cfg);
            loss_sum += loss.double_value(&[]);
            self.adam.backward_step(&loss, cfg.learning_rate, Some(1.0));
            on_batch(k + 1, batches);
        }
        let (val_mae, val_stage_accuracy) = validate(&self.model, &self.val);
        self.progress.epochs_done += 1;
        self.progress.adam_step = self.adam.state().step;
        let stats = EpochStats {
            epoch: self.progress.epochs_done,
            step: self.progress.adam_step,
            loss: loss_sum / batches.max(1) as f64,
            val_mae,
            val_stage_accuracy,
        };
        self.progress.history.push(stats);
        stats
    }

    /// Train the remaining epochs in the run directory `run`: after each epoch its
    /// figures go to `logger` (`train/loss`, `val/mae`, `val/stage_accuracy`, at step =
    /// epoch), a checkpoint `checkpoints/epoch-NNNN` is saved (the newest
    /// [`KEEP_CHECKPOINTS`] kept) and `on_epoch` sees the stats. Stops early, after a
    /// checkpoint, once `stop` is set; returns whether every epoch is done.
    pub fn fit(
        &mut self,
        run: &rapt_rundir::RunDir,
        logger: &mut rapt_rundir::Logger,
        stop: &std::sync::atomic::AtomicBool,
        mut on_epoch: impl FnMut(&EpochStats),
    ) -> Result<bool, RewardModelTrainError> {
        let epochs = self.progress.config.epochs;
        while self.progress.epochs_done < epochs {
            let s = self.epoch(|_, _| {});
            logger.record("train/loss", s.loss);
            logger.record("val/mae", s.val_mae);
            logger.record("val/stage_accuracy", s.val_stage_accuracy);
            logger
                .dump(s.epoch as u64)
                .map_err(RewardModelTrainError::Log)?;
            let checkpoints = checkpoint_dir(run.path());
            self.save_checkpoint(&checkpoints.path_of(s.epoch as u64))?;
            checkpoints.prune(KEEP_CHECKPOINTS)?;
            on_epoch(&s);
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                return Ok(self.progress.epochs_done >= epochs);
            }
        }
        logger.finish().map_err(RewardModelTrainError::Log)?;
        Ok(true)
    }

    /// Save a checkpoint into directory `dir` (written beside it and renamed into place).
    pub fn save_checkpoint(&self, dir: &Path) -> Result<(), RewardModelTrainError> {
        rapt_rundir::write_dir_atomic(dir, |tmp| self.write_checkpoint_files(tmp))
    }

    fn write_checkpoint_files(&self, tmp: &Path) -> Result<(), RewardModelTrainError> {
        self.model.write_files(tmp)?;
        let opt = tmp.join(OPTIMIZER);
        let s = self.adam.state();
        Tensor::write_safetensors(
            &[("exp_avg", &s.exp_avg), ("exp_avg_sq", &s.exp_avg_sq)],
            &opt,
        )
        .map_err(|e| ModelError::Io {
            path: opt.clone(),
            message: e.to_string(),
        })?;
        let path = tmp.join(PROGRESS);
        let mut value = serde_json::to_value(&self.progress).expect("progress serializes");
        crate::reward_model::put_digests(&mut value, tmp, &[OPTIMIZER])?;
        let text = serde_json::to_string_pretty(&value).expect("progress serializes");
        fs::write(&path, text).map_err(|e| {
            RewardModelTrainError::Model(ModelError::Io {
                path: path.clone(),
                message: e.to_string(),
            })
        })
    }
}

/// Split episodes into training and validation by a seeded draw per episode (`first` is
/// the index of `episodes[0]` among all the run's episodes).
fn split(
    episodes: &[crate::Episode],
    first: usize,
    fraction: f64,
    seed: u64,
) -> (Vec<&crate::Episode>, Vec<&crate::Episode>) {
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for (i, ep) in episodes.iter().enumerate() {
        // A fixed, well-mixed draw per (seed, episode index).
        let z = rapt_core::seeded_hash(seed, (first + i) as u64);
        if (z >> 11) as f64 / (1u64 << 53) as f64 <= fraction {
            val.push(ep);
        } else {
            train.push(ep);
        }
    }
    (train, val)
}

/// What a model trained on `tasks` is: a model of their one task, or a task-conditioned
/// model of all of them.
fn meta_for(tasks: &[TaskData], cfg: &RewardModelConfig) -> ModelMeta {
    let first = &tasks[0].manifest;
    let shape = |stages: usize, task_stages: Vec<usize>| NetShape {
        views: first.views.clone(),
        size: first.size,
        stages,
        task_stages,
    };
    if let [one] = tasks {
        return ModelMeta {
            format: MODEL_FORMAT,
            env: one.manifest.env.clone(),
            stages: one.manifest.stages.clone(),
            shape: shape(one.manifest.stages.len().max(1), vec![]),
            net: cfg.net.clone(),
            tasks: vec![],
            ensemble: None,
        };
    }
    let counts: Vec<usize> = tasks.iter().map(|t| t.info.stages.len().max(1)).collect();
    ModelMeta {
        format: MODEL_FORMAT,
        env: tasks
            .iter()
            .map(|t| t.info.name.as_str())
            .collect::<Vec<_>>()
            .join("+"),
        stages: vec![],
        shape: shape(counts.iter().copied().max().unwrap_or(1), counts),
        net: cfg.net.clone(),
        tasks: tasks.iter().map(|t| t.info.clone()).collect(),
        ensemble: None,
    }
}

/// The checkpoints of the reward-model run in `run`: `run/checkpoints/epoch-NNNN`.
pub fn checkpoint_dir(run: &Path) -> CheckpointDir {
    CheckpointDir::epochs(run.join("checkpoints"))
}
