//! Checkpoints: a directory holding the network weights (`weights.safetensors`) and a
//! `meta.json` (format version, sizes, hyperparameters, observation statistics, counters).
//! Written into `NAME.tmp/` and renamed into place, so a crash never leaves a checkpoint
//! that looks complete but is not.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::Device;
use thiserror::Error;

use crate::{Learner, PpoConfig, RunningMeanStd};

/// Checkpoint format written by this version.
pub const CHECKPOINT_FORMAT: u32 = 1;
const WEIGHTS: &str = "weights.safetensors";
const META: &str = "meta.json";

/// What went wrong with a checkpoint; every variant names the path.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Reading or writing failed.
    #[error("checkpoint {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The checkpoint exists but cannot be read back.
    #[error("checkpoint {path} is corrupted or truncated: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// The counters saved with a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Environment steps taken.
    pub global_step: u64,
    /// PPO updates done.
    pub update: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    format: u32,
    obs_dim: usize,
    act_dim: usize,
    config: PpoConfig,
    obs_mean: Vec<f64>,
    obs_var: Vec<f64>,
    obs_count: f64,
    progress: Progress,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Learner {
    /// Save into directory `dir` (replacing an older checkpoint of the same name).
    pub fn save_checkpoint(&self, dir: &Path, progress: Progress) -> Result<(), CheckpointError> {
        let tmp = dir.with_extension("tmp");
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        let weights = tmp.join(WEIGHTS);
        self.var_store()
            .save(&weights)
            .map_err(|e| CheckpointError::Io {
                path: weights.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
        let stats = self.obs_stats();
        let meta = Meta {
            format: CHECKPOINT_FORMAT,
            obs_dim: self.obs_dim(),
            act_dim: self.act_dim(),
            config: self.config().clone(),
            obs_mean: stats.mean.clone(),
            obs_var: stats.var.clone(),
            obs_count: stats.count,
            progress,
        };
        let meta_path = tmp.join(META);
        let text = serde_json::to_string_pretty(&meta).expect("meta serializes");
        fs::write(&meta_path, text).map_err(io(&meta_path))?;
        if dir.exists() {
            fs::remove_dir_all(dir).map_err(io(dir))?;
        }
        fs::rename(&tmp, dir).map_err(io(dir))
    }

    /// Load the checkpoint in directory `dir` onto `device`.
    pub fn load_checkpoint(
        dir: &Path,
        device: Device,
    ) -> Result<(Self, Progress), CheckpointError> {
        let meta_path = dir.join(META);
        let text = fs::read_to_string(&meta_path).map_err(io(&meta_path))?;
        let meta: Meta = serde_json::from_str(&text).map_err(|e| CheckpointError::Corrupt {
            path: meta_path.clone(),
            message: e.to_string(),
        })?;
        if meta.format != CHECKPOINT_FORMAT {
            return Err(CheckpointError::Corrupt {
                path: meta_path,
                message: format!(
                    "format {} (this build reads {CHECKPOINT_FORMAT})",
                    meta.format
                ),
            });
        }
        if meta.obs_mean.len() != meta.obs_dim || meta.obs_var.len() != meta.obs_dim {
            return Err(CheckpointError::Corrupt {
                path: meta_path,
                message: "observation statistics do not match obs_dim".into(),
            });
        }
        let mut learner = Learner::new(meta.obs_dim, meta.act_dim, meta.config, device, 0)
            .map_err(|e| CheckpointError::Corrupt {
                path: meta_path.clone(),
                message: e.to_string(),
            })?;
        let weights = dir.join(WEIGHTS);
        if !weights.exists() {
            return Err(CheckpointError::Io {
                path: weights,
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "missing"),
            });
        }
        learner
            .var_store_mut()
            .load(&weights)
            .map_err(|e| CheckpointError::Corrupt {
                path: weights.clone(),
                message: e.to_string(),
            })?;
        learner.set_obs_stats(RunningMeanStd {
            mean: meta.obs_mean,
            var: meta.obs_var,
            count: meta.obs_count,
        });
        Ok((learner, meta.progress))
    }
}

/// The newest checkpoint directory under `dir` (names sort by update number).
pub fn latest_checkpoint(dir: &Path) -> Option<PathBuf> {
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.extension().is_none() && p.join(META).exists())
        .collect();
    names.sort();
    names.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learner() -> Learner {
        Learner::new(5, 2, PpoConfig::default(), Device::Cpu, 3).unwrap()
    }

    #[test]
    fn a_checkpoint_round_trips_weights_statistics_and_counters() {
        let dir = std::env::temp_dir().join(format!("rapt-ckpt-rt-{}", std::process::id()));
        let mut l = learner();
        let mut obs = vec![1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 1.0, 0.0, 1.0, 0.0];
        l.normalize(&mut obs, true);
        let progress = Progress {
            global_step: 1234,
            update: 7,
        };
        l.save_checkpoint(&dir.join("update-000007"), progress)
            .unwrap();
        let (back, p) = Learner::load_checkpoint(&dir.join("update-000007"), Device::Cpu).unwrap();
        assert_eq!(p, progress);
        assert_eq!(back.obs_stats(), l.obs_stats());
        let probe = vec![0.5; 10];
        assert_eq!(back.act_deterministic(&probe), l.act_deterministic(&probe));
        assert_eq!(latest_checkpoint(&dir), Some(dir.join("update-000007")));
    }

    #[test]
    fn corrupted_or_truncated_checkpoints_give_clear_errors() {
        let dir = std::env::temp_dir().join(format!("rapt-ckpt-bad-{}", std::process::id()));
        let ckpt = dir.join("update-000001");
        learner()
            .save_checkpoint(
                &ckpt,
                Progress {
                    global_step: 1,
                    update: 1,
                },
            )
            .unwrap();
        // Truncate the weights.
        let w = ckpt.join(WEIGHTS);
        let bytes = fs::read(&w).unwrap();
        fs::write(&w, &bytes[..bytes.len() / 2]).unwrap();
        let err = Learner::load_checkpoint(&ckpt, Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("weights.safetensors") && err.contains("corrupted or truncated"),
            "{err}"
        );
        // Garbage metadata.
        fs::write(ckpt.join(META), "{ not json").unwrap();
        let err = Learner::load_checkpoint(&ckpt, Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("meta.json") && err.contains("corrupted"),
            "{err}"
        );
        // Missing directory.
        let err = Learner::load_checkpoint(&dir.join("nope"), Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope"), "{err}");
    }
}
