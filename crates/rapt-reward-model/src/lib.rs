//! Learned step-aware reward models (Robo-Dopamine's GRM, small): datasets of multi-view
//! camera frames labelled with the env's oracle progress ([`dataset`]), a multi-view CNN
//! that predicts the stage (classification) and the progress within it (regression),
//! combined into Φ, its training, evaluation and one-shot adaptation, and a
//! [`rapt_shaping::ProgressModel`] that scores frames with it.

pub mod adapt;
pub mod dataset;
pub mod ensemble;

pub use dataset::{
    DatasetError, DatasetWriter, Episode, EpisodeHeader, EpisodeKind, Manifest, read_dataset,
    read_datasets, read_episode, read_header, read_manifest,
};
pub mod eval;
pub mod model;
pub mod record;
pub mod reward_model;
pub mod run;
pub mod samples;
pub mod tasks;
pub mod train;

pub use ensemble::{EnsembleMeta, ensemble};
pub use model::{Fusion, NetConfig, NetShape, ProgressNet};
pub use reward_model::{LearnedProgress, ModelError, ModelMeta, RewardModel, model_name};
pub use run::{RewardModelRun, RewardModelStart};
pub use tasks::{TaskData, TaskInfo, read_task_datasets, task_of};
pub use train::{
    EpochStats, KEEP_CHECKPOINTS, RewardModelConfig, RewardModelTrainError, RewardModelTrainer,
    TrainProgress,
};
