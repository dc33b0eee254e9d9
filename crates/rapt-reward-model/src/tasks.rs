//! Tasks of a task-conditioned reward model: which datasets belong to which task, and
//! which task an env id names.
//!
//! A task is an env id without its version: `Push-v0` and `Push-v2` render the same
//! scenes (only their rewards differ) and are one task, `Push`; `PandaPush-v0` (another
//! robot) is another.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dataset::{DatasetError, Episode, Manifest};

/// One task of a task-conditioned model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// The task's name: its env ids without the version ([`task_of`]).
    pub name: String,
    /// The env ids its training data came from.
    pub envs: Vec<String>,
    /// Its stage names, in order.
    pub stages: Vec<String>,
}

/// The task an env id names: the id without a trailing `-vN` (`Push-v2` → `Push`).
pub fn task_of(env: &str) -> &str {
    match env.rsplit_once("-v") {
        Some((name, version))
            if !name.is_empty()
                && !version.is_empty()
                && version.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        _ => env,
    }
}

/// The episodes of one task, from one or more datasets.
#[derive(Debug)]
pub struct TaskData {
    /// The task.
    pub info: TaskInfo,
    /// The manifest of its first dataset (views, size and stages are the same in all).
    pub manifest: Manifest,
    /// Its episodes, datasets in the order given.
    pub episodes: Vec<Episode>,
}

/// Read the datasets at `dirs` grouped by task, tasks in order of first appearance. All
/// must have the same views and frame size, and the datasets of a task the same stages;
/// anything else is [`DatasetError::Mismatch`] naming the dataset. Corrupted episode
/// files are left out and returned with `skip_corrupt`, an error otherwise.
pub fn read_task_datasets(
    dirs: &[PathBuf],
    skip_corrupt: bool,
) -> Result<(Vec<TaskData>, Vec<DatasetError>), DatasetError> {
    let mut tasks: Vec<TaskData> = Vec::new();
    let mut skipped = Vec::new();
    let mut first: Option<(&Path, Manifest)> = None;
    for dir in dirs {
        let (m, episodes, bad) = crate::read_dataset(dir, skip_corrupt)?;
        skipped.extend(bad);
        match &first {
            None => first = Some((dir, m.clone())),
            Some((path, f)) if (&m.views, m.size) != (&f.views, f.size) => {
                return Err(DatasetError::Mismatch {
                    path: dir.clone(),
                    message: format!(
                        "frames ({:?} at {} px) differ from {}'s ({:?} at {} px)",
                        m.views,
                        m.size,
                        path.display(),
                        f.views,
                        f.size
                    ),
                });
            }
            Some(_) => {}
        }
        let name = task_of(&m.env);
        match tasks.iter_mut().find(|t| t.info.name == name) {
            Some(t) => {
                if m.stages != t.info.stages {
                    return Err(DatasetError::Mismatch {
                        path: dir.clone(),
                        message: format!(
                            "task {name}: stages {:?} differ from {:?} of its other datasets",
                            m.stages, t.info.stages
                        ),
                    });
                }
                if !t.info.envs.contains(&m.env) {
                    t.info.envs.push(m.env.clone());
                }
                t.episodes.extend(episodes);
            }
            None => tasks.push(TaskData {
                info: TaskInfo {
                    name: name.to_string(),
                    envs: vec![m.env.clone()],
                    stages: m.stages.clone(),
                },
                manifest: m,
                episodes,
            }),
        }
    }
    if tasks.is_empty() {
        return Err(DatasetError::BadEpisode("no dataset given".into()));
    }
    Ok((tasks, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_is_its_env_id_without_the_version() {
        assert_eq!(task_of("Push-v2"), "Push");
        assert_eq!(task_of("PandaPush-v0"), "PandaPush");
        assert_eq!(task_of("PickPlace-v12"), "PickPlace");
        assert_eq!(task_of("Push"), "Push");
        assert_eq!(task_of("Push-vx"), "Push-vx");
        assert_eq!(task_of("-v1"), "-v1");
    }
}
