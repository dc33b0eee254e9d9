//! Progress models: score a batch of environments' states with Φ ∈ [0, 1].

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What a model can look at, for a batch of `n` envs.
#[derive(Debug, Clone, Copy)]
pub struct ProgressInput<'a> {
    /// Number of envs scored.
    pub n: usize,
    /// The task in words (for language-conditioned models).
    pub task: &'a str,
    /// The env's privileged progress per env (its oracle Φ), when the env exposes one.
    pub privileged: Option<&'a [f32]>,
    /// Camera frames, `n × views × height × width × 3` RGB bytes, when rendered.
    pub frames: Option<&'a [u8]>,
    /// What each of the `n` rows is within its env's episode, when the caller knows (the
    /// shaper does): for models that keep per-episode state, such as GRM's incremental Φ.
    pub rows: Option<&'a [Row]>,
}

/// What a scored row is within its env's episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// The first state of an episode of env `0` (after a reset or an autoreset).
    First(usize),
    /// The state after a step of env `0`, its episode going on.
    Next(usize),
    /// The last state of env `0`'s episode that ended at this step (its state before the
    /// autoreset; the env's `First` row of the new episode is in the same batch).
    Last(usize),
}

impl Row {
    /// The env the row belongs to.
    pub fn env(self) -> usize {
        match self {
            Row::First(i) | Row::Next(i) | Row::Last(i) => i,
        }
    }
}

/// A model's own counters since the last call, for the run's metrics (e.g.
/// `("remote_failures", Stat::Count(3.0))`, logged as `reward/remote_failures`).
pub type ModelStats = Vec<(&'static str, Stat)>;

/// One counter of a model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    /// Events: reports add up.
    Count(f64),
    /// A mean over `n` observations summing to `sum`: reports pool.
    Mean {
        /// Sum of the observations.
        sum: f64,
        /// How many.
        n: f64,
    },
}

/// Pool `stats` by name (counts added, means weighted by their sizes) into one value each,
/// in order of first appearance; a mean of no observations is NaN (so a metrics table keeps
/// its columns).
pub fn pool_stats(stats: &[(&'static str, Stat)]) -> Vec<(&'static str, f64)> {
    let mut pooled: Vec<(&'static str, Stat)> = Vec::new();
    for &(name, stat) in stats {
        match pooled.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => {
                *total = match (*total, stat) {
                    (Stat::Count(a), Stat::Count(b)) => Stat::Count(a + b),
                    (Stat::Mean { sum: a, n: m }, Stat::Mean { sum: b, n }) => Stat::Mean {
                        sum: a + b,
                        n: m + n,
                    },
                    (kept, _) => kept,
                }
            }
            None => pooled.push((name, stat)),
        }
    }
    pooled
        .into_iter()
        .map(|(name, stat)| match stat {
            Stat::Count(c) => (name, c),
            Stat::Mean { sum, n } if n > 0.0 => (name, sum / n),
            Stat::Mean { .. } => (name, f64::NAN),
        })
        .collect()
}

/// Scores for a batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgressScores {
    /// Φ per env, in [0, 1].
    pub phi: Vec<f32>,
    /// Spread per env (e.g. an ensemble's standard deviation), if the model has one.
    pub uncertainty: Option<Vec<f32>>,
}

/// Why scoring failed.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum RewardError {
    /// The model needs an input the caller did not give.
    #[error("progress model `{model}` needs {what}, which this env does not provide")]
    MissingInput {
        /// The model.
        model: String,
        /// The missing input.
        what: &'static str,
    },
    /// The input is malformed.
    #[error("progress model `{model}`: {message}")]
    BadInput {
        /// The model.
        model: String,
        /// What is wrong.
        message: String,
    },
}

/// A step-aware progress model: Φ per env for a batch of states.
pub trait ProgressModel: Send {
    /// A short name for logs and errors.
    fn name(&self) -> String;

    /// Whether it needs camera frames (the caller renders only then).
    fn needs_frames(&self) -> bool;

    /// The camera views (in order) and the frame size, px, its frames must have; `None`
    /// when it reads no frames (default).
    fn views(&self) -> Option<(Vec<String>, usize)> {
        None
    }

    /// Score a batch.
    fn score(&mut self, input: &ProgressInput<'_>) -> Result<ProgressScores, RewardError>;

    /// Whether the shaper may score several steps' frames in one call (rows of different
    /// steps side by side). Only for models whose scores do not depend on the batch (no
    /// per-episode state) and whose runs are not bit-reproducible anyway (a remote server
    /// batches by timing); false by default, so in-process runs stay reproducible.
    fn merges_batches(&self) -> bool {
        false
    }

    /// Counters since the last call (failures, latency), for the run's metrics; none by
    /// default.
    fn take_stats(&mut self) -> ModelStats {
        Vec::new()
    }
}

/// The env's own privileged Φ (stage + progress within the stage), passed through.
#[derive(Debug, Clone, Copy, Default)]
pub struct Oracle;

impl ProgressModel for Oracle {
    fn name(&self) -> String {
        "oracle".into()
    }

    fn needs_frames(&self) -> bool {
        false
    }

    fn score(&mut self, input: &ProgressInput<'_>) -> Result<ProgressScores, RewardError> {
        let phi = input.privileged.ok_or(RewardError::MissingInput {
            model: self.name(),
            what: "a privileged progress (an env with a `phi` metric)",
        })?;
        if phi.len() != input.n {
            return Err(RewardError::BadInput {
                model: self.name(),
                message: format!("{} privileged values for {} envs", phi.len(), input.n),
            });
        }
        Ok(ProgressScores {
            phi: phi.iter().map(|p| p.clamp(0.0, 1.0)).collect(),
            uncertainty: None,
        })
    }
}

/// One progress model that several shapers score with in turn (a run's training and
/// evaluation shapers), so it is loaded once. Only for models whose scores depend on their
/// input alone, without per-episode state: a learned network, not a GRM client that keeps
/// references per env. Calls are serialized by a mutex; shapers of one run never score at
/// the same time (the evaluation runs between rollouts).
#[derive(Clone)]
pub struct SharedModel(std::sync::Arc<std::sync::Mutex<Box<dyn ProgressModel>>>);

impl std::fmt::Debug for SharedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SharedModel")
            .field(&self.lock().name())
            .finish()
    }
}

impl SharedModel {
    /// Share `model`.
    pub fn new(model: Box<dyn ProgressModel>) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(model)))
    }

    /// Handles to the model alive, this one included.
    pub fn handles(&self) -> usize {
        std::sync::Arc::strong_count(&self.0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Box<dyn ProgressModel>> {
        // A panic while scoring leaves the model as it was between calls: still usable.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ProgressModel for SharedModel {
    fn name(&self) -> String {
        self.lock().name()
    }

    fn needs_frames(&self) -> bool {
        self.lock().needs_frames()
    }

    fn views(&self) -> Option<(Vec<String>, usize)> {
        self.lock().views()
    }

    fn score(&mut self, input: &ProgressInput<'_>) -> Result<ProgressScores, RewardError> {
        self.lock().score(input)
    }

    fn merges_batches(&self) -> bool {
        self.lock().merges_batches()
    }

    fn take_stats(&mut self) -> ModelStats {
        self.lock().take_stats()
    }
}

/// How an ensemble combines its members' Φ (Coste et al. 2024, REFERENCES.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Aggregate {
    /// The mean.
    Mean,
    /// The worst case: the minimum.
    Min,
    /// Uncertainty-weighted: mean − k·std (clamped to [0, 1]).
    MeanMinusStd(f32),
}

/// Several progress models, combined per env.
pub struct Ensemble {
    members: Vec<Box<dyn ProgressModel>>,
    aggregate: Aggregate,
}

impl std::fmt::Debug for Ensemble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.members.iter().map(|m| m.name()).collect();
        f.debug_struct("Ensemble")
            .field("members", &names)
            .field("aggregate", &self.aggregate)
            .finish()
    }
}

impl Ensemble {
    /// An ensemble of `members` (at least one) combined by `aggregate`.
    pub fn new(members: Vec<Box<dyn ProgressModel>>, aggregate: Aggregate) -> Self {
        assert!(!members.is_empty(), "an ensemble needs at least one member");
        Self { members, aggregate }
    }
}

impl ProgressModel for Ensemble {
    fn name(&self) -> String {
        let names: Vec<String> = self.members.iter().map(|m| m.name()).collect();
        format!("ensemble[{}]({:?})", names.join(", "), self.aggregate)
    }

    fn needs_frames(&self) -> bool {
        self.members.iter().any(|m| m.needs_frames())
    }

    /// The first member's views; [`crate::ModelSpec::build_with`] checks that members
    /// reading frames agree.
    fn views(&self) -> Option<(Vec<String>, usize)> {
        self.members.iter().find_map(|m| m.views())
    }

    fn take_stats(&mut self) -> ModelStats {
        self.members
            .iter_mut()
            .flat_map(|m| m.take_stats())
            .collect()
    }

    fn score(&mut self, input: &ProgressInput<'_>) -> Result<ProgressScores, RewardError> {
        let scores: Vec<Vec<f32>> = self
            .members
            .iter_mut()
            .map(|m| m.score(input).map(|s| s.phi))
            .collect::<Result<_, _>>()?;
        let k = scores.len() as f32;
        let mut phi = Vec::with_capacity(input.n);
        let mut spread = Vec::with_capacity(input.n);
        for i in 0..input.n {
            let column = scores.iter().map(|s| s[i]);
            let mean = column.clone().sum::<f32>() / k;
            let std = (column.clone().map(|x| (x - mean).powi(2)).sum::<f32>() / k).sqrt();
            spread.push(std);
            phi.push(
                match self.aggregate {
                    Aggregate::Mean => mean,
                    Aggregate::Min => column.fold(f32::INFINITY, f32::min),
                    Aggregate::MeanMinusStd(c) => mean - c * std,
                }
                .clamp(0.0, 1.0),
            );
        }
        Ok(ProgressScores {
            phi,
            uncertainty: Some(spread),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_pool_by_name() {
        let pooled = pool_stats(&[
            ("fail", Stat::Count(2.0)),
            ("ms", Stat::Mean { sum: 30.0, n: 3.0 }),
            ("fail", Stat::Count(1.0)),
            ("ms", Stat::Mean { sum: 10.0, n: 1.0 }),
            ("idle", Stat::Mean { sum: 0.0, n: 0.0 }),
        ]);
        assert_eq!(pooled[..2], [("fail", 3.0), ("ms", 10.0)]);
        assert!(pooled[2].0 == "idle" && pooled[2].1.is_nan());
    }

    /// A fixed model for tests: Φ = privileged + offset.
    struct Offset(f32);

    impl ProgressModel for Offset {
        fn name(&self) -> String {
            format!("offset({})", self.0)
        }
        fn needs_frames(&self) -> bool {
            false
        }
        fn score(&mut self, input: &ProgressInput<'_>) -> Result<ProgressScores, RewardError> {
            Ok(ProgressScores {
                phi: input
                    .privileged
                    .unwrap()
                    .iter()
                    .map(|p| p + self.0)
                    .collect(),
                uncertainty: None,
            })
        }
    }

    fn input(privileged: &[f32]) -> ProgressInput<'_> {
        ProgressInput {
            rows: None,
            n: privileged.len(),
            task: "push the cube to the goal",
            privileged: Some(privileged),
            frames: None,
        }
    }

    #[test]
    fn the_oracle_passes_the_env_progress_through_and_says_what_is_missing() {
        let s = Oracle.score(&input(&[0.0, 0.5, 1.2])).unwrap();
        assert_eq!(s.phi, [0.0, 0.5, 1.0]);
        let none = ProgressInput {
            rows: None,
            privileged: None,
            ..input(&[0.0])
        };
        let err = Oracle.score(&none).unwrap_err().to_string();
        assert!(err.contains("oracle") && err.contains("phi"), "{err}");
    }

    #[test]
    fn ensembles_aggregate_by_mean_min_or_mean_minus_k_std() {
        let members = || -> Vec<Box<dyn ProgressModel>> {
            vec![
                Box::new(Offset(0.0)),
                Box::new(Offset(0.2)),
                Box::new(Offset(0.4)),
            ]
        };
        let x = input(&[0.3]);
        let mean = Ensemble::new(members(), Aggregate::Mean).score(&x).unwrap();
        assert!((mean.phi[0] - 0.5).abs() < 1e-6);
        let std = mean.uncertainty.unwrap()[0];
        assert!((std - (0.08f32 / 3.0).sqrt()).abs() < 1e-6);
        let min = Ensemble::new(members(), Aggregate::Min).score(&x).unwrap();
        assert!((min.phi[0] - 0.3).abs() < 1e-6);
        let cautious = Ensemble::new(members(), Aggregate::MeanMinusStd(1.0))
            .score(&x)
            .unwrap();
        assert!((cautious.phi[0] - (0.5 - std)).abs() < 1e-6);
    }
}
