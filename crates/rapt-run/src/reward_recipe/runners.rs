//! Who trains a round's PPO policies: this process, or pinned processes side by side.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::invalid;
use crate::RunError;

/// A PPO training the recipe needs: the run config `config` with `overrides`, into
/// `run_dir` (resumed from its newest checkpoint when it holds one), without a final
/// evaluation (the recipe scores the policy itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PpoJob {
    /// The run config.
    pub config: PathBuf,
    /// `path=value` overrides (seed, steps, the shaping model).
    pub overrides: Vec<String>,
    /// The run directory.
    pub run_dir: PathBuf,
}

/// Runs a round's PPO trainings, which do not depend on each other: one after another in
/// this process ([`InProcess`]), or side by side as processes pinned to cores (what the
/// `rapt` CLI does).
pub trait PpoRunner {
    /// Train every job to its end; an error if any failed or was stopped.
    fn run(&self, jobs: &[PpoJob]) -> Result<(), RunError>;
}

/// Trains the jobs one after another in this process.
#[derive(Debug, Clone, Default)]
pub struct InProcess {
    /// Once set, the training in progress stops after its update (checkpoint saved) and
    /// the recipe stops with an error; rerunning resumes it.
    pub stop: Arc<AtomicBool>,
}

impl PpoRunner for InProcess {
    fn run(&self, jobs: &[PpoJob]) -> Result<(), RunError> {
        for job in jobs {
            let request = if has_checkpoint(&job.run_dir) {
                crate::StartRequest::Resume {
                    run_dir: job.run_dir.clone(),
                    overrides: vec![],
                }
            } else {
                crate::StartRequest::New {
                    config: job.config.clone(),
                    overrides: job.overrides.clone(),
                    run_dir: Some(job.run_dir.clone()),
                }
            };
            let options = crate::TrainOptions {
                stop: self.stop.clone(),
                final_eval: false,
                ..Default::default()
            };
            let (prepared, run) = match crate::start(&request, &options.dist)? {
                crate::Started::Ppo { prepared, run, .. } => (prepared, run),
                crate::Started::Random { .. } => {
                    return Err(RunError::Invalid(format!(
                        "{}: the recipe needs a PPO config",
                        job.config.display()
                    )));
                }
            };
            let outcome = crate::train(*prepared, run.as_ref(), &options)?;
            if outcome.summary.stopped_early {
                return Err(RunError::Invalid(format!(
                    "{}: stopped; rerun the recipe to resume it",
                    job.run_dir.display()
                )));
            }
        }
        Ok(())
    }
}

/// Trains up to `jobs` runs side by side, each a `rapt train` process of the binary
/// `exe` pinned to its own core (`taskset`, when installed: unpinned trainings on shared
/// cores slow each other ~4×) with one env thread; each writes `RUN_DIR.log`.
#[derive(Debug, Clone)]
pub struct Processes {
    /// The `rapt` binary.
    pub exe: PathBuf,
    /// Trainings at a time (cores `0..jobs`).
    pub jobs: usize,
}

impl PpoRunner for Processes {
    fn run(&self, jobs: &[PpoJob]) -> Result<(), RunError> {
        let pin = std::process::Command::new("taskset")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        let lanes = self.jobs.max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..lanes)
                .map(|lane| {
                    let mine: Vec<&PpoJob> = jobs.iter().skip(lane).step_by(lanes).collect();
                    scope.spawn(move || -> Result<(), RunError> {
                        for job in mine {
                            self.train_one(job, pin.then_some(lane))?;
                        }
                        Ok(())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a training lane panicked"))
                .collect::<Result<Vec<()>, RunError>>()
        })?;
        Ok(())
    }
}

impl Processes {
    fn train_one(&self, job: &PpoJob, core: Option<usize>) -> Result<(), RunError> {
        let mut cmd = match core {
            Some(c) => {
                let mut cmd = std::process::Command::new("taskset");
                cmd.arg("-c").arg(c.to_string()).arg(&self.exe);
                cmd
            }
            None => std::process::Command::new(&self.exe),
        };
        cmd.arg("train");
        if has_checkpoint(&job.run_dir) {
            cmd.arg("--resume").arg(&job.run_dir);
        } else {
            cmd.arg(&job.config).arg("--run-dir").arg(&job.run_dir);
            for o in job.overrides.iter().chain(&["env.threads=1".to_string()]) {
                cmd.arg("--set").arg(o);
            }
        }
        cmd.arg("--no-final-eval");
        let log_path = job.run_dir.with_extension("log");
        if let Some(parent) = log_path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| invalid(format!("{}: {e}", parent.display())))?;
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| invalid(format!("{}: {e}", log_path.display())))?;
        let err = log
            .try_clone()
            .map_err(|e| invalid(format!("{}: {e}", log_path.display())))?;
        let status = cmd
            .stdout(log)
            .stderr(err)
            .status()
            .map_err(|e| invalid(format!("starting {}: {e}", self.exe.display())))?;
        if !status.success() {
            return Err(invalid(format!(
                "training {} failed ({status}); see {}",
                job.run_dir.display(),
                log_path.display()
            )));
        }
        Ok(())
    }
}

/// Whether the run directory holds a PPO checkpoint to resume from.
pub fn has_checkpoint(run_dir: &Path) -> bool {
    rapt_rundir::CheckpointDir::updates(run_dir.join("checkpoints"))
        .latest()
        .is_some()
}
