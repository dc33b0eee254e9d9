//! Checkpoints: a directory holding the network weights (`weights.safetensors`), Adam's
//! moments (`optimizer.safetensors`, absent from a policy saved alone) and a `meta.json` (format version, sizes,
//! hyperparameters, Adam's step count, observation and reward statistics, counters).
//! Written into `NAME.tmp/` and renamed into place, so a crash never leaves a checkpoint
//! that looks complete but is not.
//!
//! Random state needs no saving: the training loop reseeds torch from the run's seed and
//! the update number at the start of every update ([`seed_update`]), so the counters
//! determine it.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};
use thiserror::Error;

use crate::{AdamState, Learner, ObsLayout, PpoConfig, RunningMeanStd};

/// Checkpoint format written by this version.
pub const CHECKPOINT_FORMAT: u32 = 2;
const WEIGHTS: &str = "weights.safetensors";
const OPTIMIZER: &str = "optimizer.safetensors";
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
    /// A tensor file differs from the digest its `meta.json` recorded.
    #[error("checkpoint {}: {source}", path.display())]
    Integrity {
        /// The checkpoint directory.
        path: PathBuf,
        /// Which file, and how it differs.
        source: rapt_rundir::integrity::IntegrityError,
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

impl From<rapt_rundir::FileError> for CheckpointError {
    fn from(e: rapt_rundir::FileError) -> Self {
        Self::Io {
            path: e.path,
            source: e.source,
        }
    }
}

/// The counters saved with a checkpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Environment steps taken.
    pub global_step: u64,
    /// PPO updates done.
    pub update: u64,
    /// Success rate of the last periodic evaluation, if one has run.
    #[serde(default)]
    pub last_eval: Option<f64>,
    /// A digest of the settings of the run that wrote it (as `rapt_run` computes it: all
    /// but those `--resume --set` may change), so that resuming can tell an edited
    /// `config.ron` from the run's own; absent from checkpoints written before
    /// 2026-12-06 and from learners trained outside a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<u64>,
}

/// Seed torch for update `update` of a run seeded `seed` (with SplitMix64 of both); called
/// at the start of each update so that a resumed run samples what the uninterrupted run
/// would have.
pub fn seed_update(seed: u64, update: u64) {
    tch::manual_seed(update_seed(seed, update));
}

fn update_seed(seed: u64, update: u64) -> i64 {
    (rapt_core::seeded_hash(seed, update) >> 1) as i64
}

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    format: u32,
    layout: ObsLayout,
    act_dim: usize,
    config: PpoConfig,
    obs_stats: RunningMeanStd,
    adam_step: u64,
    reward_stats: RunningMeanStd,
    progress: Progress,
    /// SHA-256 of each tensor file, hex, by file name (absent in checkpoints written
    /// before digests were recorded: those load unchecked).
    #[serde(default)]
    sha256: std::collections::BTreeMap<String, String>,
    /// A policy without optimizer state ([`Learner::save_policy`]): it loads for acting
    /// and evaluation; training from it starts Adam afresh.
    #[serde(default)]
    policy_only: bool,
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
        self.save(dir, progress, true)
    }

    /// Save the policy alone into directory `dir`: weights, observation and reward
    /// statistics, config and counters, without Adam's moments (a third of the size of
    /// a checkpoint for an MLP). [`Learner::load_checkpoint`] reads it; training on from
    /// it starts the optimizer afresh.
    pub fn save_policy(&self, dir: &Path, progress: Progress) -> Result<(), CheckpointError> {
        self.save(dir, progress, false)
    }

    fn save(
        &self,
        dir: &Path,
        progress: Progress,
        with_optimizer: bool,
    ) -> Result<(), CheckpointError> {
        rapt_rundir::write_dir_atomic(dir, |tmp| self.write_files(tmp, progress, with_optimizer))
    }

    fn write_files(
        &self,
        tmp: &Path,
        progress: Progress,
        with_optimizer: bool,
    ) -> Result<(), CheckpointError> {
        let weights = tmp.join(WEIGHTS);
        self.var_store()
            .save(&weights)
            .map_err(|e| CheckpointError::Io {
                path: weights.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
        let adam = self.optimizer().state();
        let mut files = vec![WEIGHTS];
        if with_optimizer {
            let opt_path = tmp.join(OPTIMIZER);
            Tensor::write_safetensors(
                &[("exp_avg", &adam.exp_avg), ("exp_avg_sq", &adam.exp_avg_sq)],
                &opt_path,
            )
            .map_err(|e| CheckpointError::Io {
                path: opt_path.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
            files.push(OPTIMIZER);
        }

        let sha256 = rapt_rundir::integrity::digest_files(tmp, &files).map_err(|source| {
            CheckpointError::Integrity {
                path: tmp.to_path_buf(),
                source,
            }
        })?;
        let meta = Meta {
            sha256,
            format: CHECKPOINT_FORMAT,
            layout: self.layout(),
            act_dim: self.act_dim(),
            config: self.config().clone(),
            obs_stats: self.obs_stats().clone(),
            adam_step: adam.step,
            reward_stats: self.reward_scaler().stats().clone(),
            progress,
            policy_only: !with_optimizer,
        };
        let meta_path = tmp.join(META);
        let text = serde_json::to_string_pretty(&meta).expect("meta serializes");
        fs::write(&meta_path, text).map_err(io(&meta_path))
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
        let dims_ok = |s: &RunningMeanStd, d: usize| s.mean.len() == d && s.var.len() == d;
        let normalized = match meta.config.encoder {
            crate::Encoder::Mlp => meta.layout.dim,
            crate::Encoder::Cnn { .. } => meta.layout.vector_dim(),
        };
        if !dims_ok(&meta.obs_stats, normalized) || !dims_ok(&meta.reward_stats, 1) {
            return Err(CheckpointError::Corrupt {
                path: meta_path,
                message: "observation or reward statistics have the wrong size".into(),
            });
        }
        let mut learner =
            Learner::new(meta.layout, meta.act_dim, meta.config, device, 0).map_err(|e| {
                CheckpointError::Corrupt {
                    path: meta_path.clone(),
                    message: e.to_string(),
                }
            })?;
        let weights = dir.join(WEIGHTS);
        let opt_path = dir.join(OPTIMIZER);
        let tensor_files: &[&PathBuf] = if meta.policy_only {
            &[&weights]
        } else {
            &[&weights, &opt_path]
        };
        for path in tensor_files {
            if !path.exists() {
                return Err(CheckpointError::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "missing"),
                });
            }
        }
        if meta.sha256.is_empty() {
            tracing::warn!(checkpoint = %dir.display(), "no SHA-256 digests in meta.json (an older checkpoint): loading it unchecked");
        }
        rapt_rundir::integrity::verify_files(dir, &meta.sha256).map_err(|source| {
            CheckpointError::Integrity {
                path: dir.to_path_buf(),
                source,
            }
        })?;
        learner
            .var_store_mut()
            .load(&weights)
            .map_err(|e| CheckpointError::Corrupt {
                path: weights.clone(),
                message: e.to_string(),
            })?;
        learner.reward_scaler_mut().set_stats(meta.reward_stats);
        learner.set_obs_stats(meta.obs_stats);
        if meta.policy_only {
            return Ok((learner, meta.progress));
        }
        let corrupt = |message: String| CheckpointError::Corrupt {
            path: opt_path.clone(),
            message,
        };
        let mut moments =
            Tensor::read_safetensors(&opt_path).map_err(|e| corrupt(e.to_string()))?;
        moments.sort_by(|a, b| a.0.cmp(&b.0));
        let [(n1, exp_avg), (n2, exp_avg_sq)]: [(String, Tensor); 2] = moments
            .try_into()
            .map_err(|_| corrupt("expected exactly exp_avg and exp_avg_sq".into()))?;
        if (n1.as_str(), n2.as_str()) != ("exp_avg", "exp_avg_sq") {
            return Err(corrupt(format!(
                "expected exp_avg and exp_avg_sq, found {n1} and {n2}"
            )));
        }
        learner
            .optimizer_mut()
            .set_state(AdamState {
                exp_avg,
                exp_avg_sq,
                step: meta.adam_step,
            })
            .map_err(|e| corrupt(e.0))?;
        Ok((learner, meta.progress))
    }
}

/// Whether the checkpoint in directory `dir` is a policy saved alone
/// ([`Learner::save_policy`], `rapt export`): no optimizer state, so it evaluates but
/// cannot continue a run.
pub fn is_policy_only(dir: &Path) -> bool {
    let text = fs::read_to_string(dir.join(META)).unwrap_or_default();
    serde_json::from_str::<Meta>(&text).is_ok_and(|m| m.policy_only)
}

/// The counters of the checkpoint in directory `dir`, without loading its tensors.
pub fn read_progress(dir: &Path) -> Result<Progress, CheckpointError> {
    let meta_path = dir.join(META);
    let text = fs::read_to_string(&meta_path).map_err(io(&meta_path))?;
    let meta: Meta = serde_json::from_str(&text).map_err(|e| CheckpointError::Corrupt {
        path: meta_path,
        message: e.to_string(),
    })?;
    Ok(meta.progress)
}

impl Learner {
    /// Load the newest intact checkpoint under `dir`: a newer one that fails to load
    /// (missing `meta.json`, a digest mismatch, a truncated file) is skipped with a
    /// warning naming both. `Ok(None)` when `dir` holds no checkpoint at all; an error
    /// (the newest one's) when it holds some but none loads.
    pub fn load_newest_checkpoint(
        dir: &Path,
        device: Device,
    ) -> Result<Option<(Self, Progress, PathBuf)>, CheckpointError> {
        let loaded = rapt_rundir::CheckpointDir::updates(dir)
            .load_newest(|ckpt| Learner::load_checkpoint(ckpt, device))?;
        Ok(loaded.map(|((learner, progress), ckpt)| (learner, progress, ckpt)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learner() -> Learner {
        Learner::new(
            ObsLayout::vector(5),
            2,
            PpoConfig::default(),
            Device::Cpu,
            3,
        )
        .unwrap()
    }

    fn rollout(seed: i64) -> crate::RolloutBuffer {
        tch::manual_seed(seed);
        let v = |n: i64| {
            Vec::<f32>::try_from(Tensor::randn([n], (tch::Kind::Float, Device::Cpu))).unwrap()
        };
        let mut r = crate::RolloutBuffer::new(2);
        r.obs = v(8 * 5);
        r.actions = v(8 * 2);
        r.logp = v(8);
        r.values = v(8);
        r.rewards = v(8);
        r.terminated = vec![false; 8];
        r.ended = (0..8).map(|k| k == 5).collect();
        r.next_values = v(8);
        r.finish(&[0.0; 2], crate::GaeParams::default());
        r
    }

    fn params(l: &Learner) -> Vec<f32> {
        Vec::<f32>::try_from(l.optimizer().flat_params()).unwrap()
    }

    #[test]
    fn a_checkpoint_round_trips_weights_optimizer_statistics_and_counters() {
        let dir = std::env::temp_dir().join(format!("rapt-ckpt-rt-{}", std::process::id()));
        // One minibatch: the update does not depend on torch's global RNG, which other
        // tests running in parallel also draw from.
        let config = PpoConfig {
            num_minibatches: 1,
            ..PpoConfig::default()
        };
        let mut l = Learner::new(ObsLayout::vector(5), 2, config, Device::Cpu, 3).unwrap();
        let mut obs = vec![1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 1.0, 0.0, 1.0, 0.0];
        l.normalize(&mut obs, true);
        let mut rewards = [1.0, 2.0];
        l.reward_scaler_mut().scale(&mut rewards, &[false, true]);
        l.update(&rollout(1), 0.0);
        let progress = Progress {
            global_step: 1234,
            update: 7,
            last_eval: Some(0.5),
            ..Progress::default()
        };
        l.save_checkpoint(&dir.join("update-000007"), progress)
            .unwrap();
        let (mut back, p) =
            Learner::load_checkpoint(&dir.join("update-000007"), Device::Cpu).unwrap();
        assert_eq!(p, progress);
        assert_eq!(back.obs_stats(), l.obs_stats());
        assert_eq!(back.reward_scaler().stats(), l.reward_scaler().stats());
        assert_eq!(params(&back), params(&l));
        assert_eq!(back.optimizer().state().step, l.optimizer().state().step);
        // The same next update lands on the same parameters (up to the summation order of
        // the shuffled minibatch): the optimizer's moments came back too. Fresh moments
        // would move each parameter by about the learning rate, 3e-4.
        let r = rollout(2);
        for learner in [&mut l, &mut back] {
            learner.update(&r, 0.5);
        }
        let worst = params(&back)
            .iter()
            .zip(params(&l))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "parameters differ by {worst}");
        assert_eq!(
            rapt_rundir::CheckpointDir::updates(&dir).latest(),
            Some(dir.join("update-000007"))
        );
    }

    #[test]
    fn a_policy_saved_alone_acts_as_its_checkpoint_does_without_optimizer_state() {
        let dir = std::env::temp_dir().join(format!("rapt-policy-{}", std::process::id()));
        let mut l = learner();
        let mut obs = vec![0.3f32; 5 * 3];
        l.normalize(&mut obs, true);
        l.update(&rollout(4), 0.0);
        let progress = Progress {
            global_step: 16,
            update: 2,
            last_eval: None,
            ..Progress::default()
        };
        let (full, alone) = (dir.join("full"), dir.join("alone"));
        l.save_checkpoint(&full, progress).unwrap();
        l.save_policy(&alone, progress).unwrap();
        assert!(!alone.join(OPTIMIZER).exists());
        let size = |d: &Path| {
            fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().metadata().unwrap().len())
                .sum::<u64>()
        };
        assert!(size(&alone) < size(&full));
        let (a, pa) = Learner::load_checkpoint(&full, Device::Cpu).unwrap();
        let (b, pb) = Learner::load_checkpoint(&alone, Device::Cpu).unwrap();
        assert_eq!(pa, pb);
        assert_eq!(params(&a), params(&b));
        assert_eq!(a.obs_stats(), b.obs_stats());
        let mut x = vec![0.1f32, -0.4, 2.0, 0.0, 1.0];
        a.normalize_frozen(&mut x);
        assert_eq!(a.act_deterministic(&x), b.act_deterministic(&x));
        // Weights that do not match their digest are refused as in a full checkpoint.
        fs::write(alone.join(WEIGHTS), b"garbage").unwrap();
        let err = Learner::load_checkpoint(&alone, Device::Cpu).unwrap_err();
        assert!(err.to_string().contains("SHA-256"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A fresh learner saved at update 1.
    fn save_fresh(dir: &Path) {
        let progress = Progress {
            global_step: 1,
            update: 1,
            last_eval: None,
            ..Progress::default()
        };
        learner().save_checkpoint(dir, progress).unwrap();
    }

    #[test]
    fn corrupted_or_truncated_checkpoints_give_clear_errors() {
        let dir = std::env::temp_dir().join(format!("rapt-ckpt-bad-{}", std::process::id()));
        let ckpt = dir.join("update-000001");
        save_fresh(&ckpt);
        // Truncate the weights.
        let w = ckpt.join(WEIGHTS);
        let bytes = fs::read(&w).unwrap();
        fs::write(&w, &bytes[..bytes.len() / 2]).unwrap();
        let err = Learner::load_checkpoint(&ckpt, Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("weights.safetensors") && err.contains("does not match its SHA-256"),
            "{err}"
        );
        // Zeroed, same length: what a torn write on some file systems leaves.
        save_fresh(&ckpt);
        fs::write(&w, vec![0u8; bytes.len()]).unwrap();
        let err = Learner::load_checkpoint(&ckpt, Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(err.contains("weights.safetensors"), "{err}");
        // Missing optimizer state.
        save_fresh(&ckpt);
        fs::remove_file(ckpt.join(OPTIMIZER)).unwrap();
        let err = Learner::load_checkpoint(&ckpt, Device::Cpu)
            .unwrap_err()
            .to_string();
        assert!(err.contains("optimizer.safetensors"), "{err}");
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

    #[test]
    fn resume_falls_back_to_the_newest_intact_checkpoint() {
        let dir = std::env::temp_dir().join(format!("rapt-ckpt-fallback-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        assert!(
            Learner::load_newest_checkpoint(&dir, Device::Cpu)
                .unwrap()
                .is_none()
        );
        for update in [1, 2, 3] {
            let progress = Progress {
                global_step: update * 10,
                update,
                last_eval: None,
                ..Progress::default()
            };
            learner()
                .save_checkpoint(&dir.join(format!("update-{update:06}")), progress)
                .unwrap();
        }
        // The newest lost its meta.json, the next one has a flipped byte.
        fs::remove_file(dir.join("update-000003").join(META)).unwrap();
        let w = dir.join("update-000002").join(WEIGHTS);
        let mut bytes = fs::read(&w).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&w, bytes).unwrap();
        let (_, progress, ckpt) = Learner::load_newest_checkpoint(&dir, Device::Cpu)
            .unwrap()
            .unwrap();
        assert_eq!((progress.update, ckpt), (1, dir.join("update-000001")));
        // None intact: the newest one's error, not a silent fresh start.
        fs::remove_file(dir.join("update-000001").join(OPTIMIZER)).unwrap();
        let err = Learner::load_newest_checkpoint(&dir, Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("update-000003") && err.contains("meta.json"),
            "{err}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
