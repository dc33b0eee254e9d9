//! Summing finished episodes into the figures evaluations report.

use serde::{Deserialize, Serialize};

use crate::{EpisodeStats, InfoLayout};

/// Finished episodes added up: success counts, return and length sums, and the sums of
/// each metric's value at the episodes' last step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpisodeTally {
    episodes: usize,
    successes: usize,
    successes_once: usize,
    return_sum: f64,
    length_sum: f64,
    metric_sums: Vec<f64>,
}

/// The means of a [`EpisodeTally`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeSummary {
    /// Episodes counted.
    pub episodes: usize,
    /// Fraction successful at the last step.
    pub success_rate: f64,
    /// Fraction successful at some step.
    pub success_once_rate: f64,
    /// Mean undiscounted return.
    pub mean_return: f64,
    /// Mean length, steps.
    pub mean_length: f64,
    /// The metrics at the last step, per-episode means (declared ratios: ratio of the
    /// sums), by name in the env's order.
    #[serde(with = "ordered_map")]
    pub metrics: Vec<(String, f64)>,
}

impl EpisodeTally {
    /// Add an episode: its statistics and its metrics at the last step.
    pub fn add(&mut self, ep: &EpisodeStats, metrics: &[f32]) {
        self.episodes += 1;
        self.successes += usize::from(ep.success_at_end);
        self.successes_once += usize::from(ep.success_once);
        self.return_sum += ep.ret;
        self.length_sum += f64::from(ep.length);
        if self.metric_sums.len() < metrics.len() {
            self.metric_sums.resize(metrics.len(), 0.0);
        }
        for (s, m) in self.metric_sums.iter_mut().zip(metrics) {
            *s += f64::from(*m);
        }
    }

    /// Episodes added.
    pub fn episodes(&self) -> usize {
        self.episodes
    }

    /// Episodes successful at the last step.
    pub fn successes(&self) -> usize {
        self.successes
    }

    /// The means, with the metrics named and aggregated as `layout` says.
    pub fn summary(&self, layout: &InfoLayout) -> EpisodeSummary {
        let n = self.episodes.max(1) as f64;
        let mut sums = self.metric_sums.clone();
        sums.resize(layout.metrics.len(), 0.0);
        EpisodeSummary {
            episodes: self.episodes,
            success_rate: self.successes as f64 / n,
            success_once_rate: self.successes_once as f64 / n,
            mean_return: self.return_sum / n,
            mean_length: self.length_sum / n,
            metrics: layout.aggregate_episodes(&sums, n),
        }
    }
}

/// `Vec<(String, f64)>` as a map in its own order.
pub mod ordered_map {
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize as a map.
    pub fn serialize<S: Serializer>(v: &[(String, f64)], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(v.len()))?;
        for (k, x) in v {
            map.serialize_entry(k, x)?;
        }
        map.end()
    }

    /// Deserialize from a map (in key order).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, f64)>, D::Error> {
        let map = std::collections::BTreeMap::<String, f64>::deserialize(d)?;
        Ok(map.into_iter().collect())
    }
}
