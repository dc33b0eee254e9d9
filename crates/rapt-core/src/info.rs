/// Names of the per-step values an env reports besides its reward, fixed at creation so
/// batches can store them as plain `f32` columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InfoLayout {
    /// Named reward terms (their values are what the reward is built from, e.g.
    /// `distance`, `success_bonus`), one column each.
    pub reward_terms: Vec<String>,
    /// Env-specific metrics (e.g. `object_height`, `route_completion`), one column each.
    pub metrics: Vec<String>,
    /// Metrics that are ratios of two others, and so are aggregated over episodes as the
    /// ratio of the sums, not the mean of the ratios (e.g. infractions per km).
    pub ratios: Vec<MetricRatio>,
    /// The metrics that sum up an episode for this kind of task, which reports show
    /// first (e.g. the CARLA leaderboard's route completion, infraction score and driving
    /// score); none by default.
    pub headline: Vec<String>,
}

/// A metric that is `scale × numerator / denominator` of two other metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRatio {
    /// Column of the ratio metric.
    pub metric: usize,
    /// Column of its numerator.
    pub numerator: usize,
    /// Column of its denominator.
    pub denominator: usize,
    /// Factor (e.g. 1000 for "per km" over a distance in m).
    pub scale: f64,
}

impl InfoLayout {
    /// A layout from term and metric names.
    pub fn new(reward_terms: &[&str], metrics: &[&str]) -> Self {
        Self {
            reward_terms: reward_terms.iter().map(|s| s.to_string()).collect(),
            metrics: metrics.iter().map(|s| s.to_string()).collect(),
            ratios: Vec::new(),
            headline: Vec::new(),
        }
    }

    /// Declare `names` the headline metrics ([`InfoLayout::headline`]).
    ///
    /// # Panics
    /// If one is not a metric of this layout (a bug in the env).
    pub fn with_headline(mut self, names: &[&str]) -> Self {
        for name in names {
            assert!(
                self.metric_index(name).is_some(),
                "`{name}` is not a metric of this layout"
            );
        }
        self.headline = names.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Declare the metric `name` the ratio `scale × numerator / denominator`.
    ///
    /// # Panics
    /// If one of the three is not a metric of this layout (a bug in the env).
    pub fn with_ratio(
        mut self,
        name: &str,
        numerator: &str,
        denominator: &str,
        scale: f64,
    ) -> Self {
        let column = |m: &str| {
            self.metric_index(m)
                .unwrap_or_else(|| panic!("`{m}` is not a metric of this layout"))
        };
        let ratio = MetricRatio {
            metric: column(name),
            numerator: column(numerator),
            denominator: column(denominator),
            scale,
        };
        self.ratios.push(ratio);
        self
    }

    /// Aggregate metrics over `episodes` episodes from their per-metric `sums` (each
    /// episode's values at its last step, summed): the mean per episode, except for the
    /// declared ratios, which are the ratio of the sums. By name, in layout order.
    pub fn aggregate_episodes(&self, sums: &[f64], episodes: f64) -> Vec<(String, f64)> {
        self.metrics
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let value = match self.ratios.iter().find(|r| r.metric == k) {
                    Some(r) if sums[r.denominator] > 0.0 => {
                        sums[r.numerator] / sums[r.denominator] * r.scale
                    }
                    Some(_) => 0.0,
                    None => sums[k] / episodes,
                };
                (name.clone(), value)
            })
            .collect()
    }

    /// The ratio declaration of metric `name`, if it is one.
    pub fn ratio_of(&self, name: &str) -> Option<&MetricRatio> {
        let column = self.metric_index(name)?;
        self.ratios.iter().find(|r| r.metric == column)
    }

    /// Column of the metric `name`, if the env reports it.
    pub fn metric_index(&self, name: &str) -> Option<usize> {
        self.metrics.iter().position(|m| m == name)
    }

    /// Column of the reward term `name`, if the env reports it.
    pub fn term_index(&self, name: &str) -> Option<usize> {
        self.reward_terms.iter().position(|m| m == name)
    }
}

/// Statistics of an episode that has just ended, reported in the info of its last step
/// (Gymnasium's `RecordEpisodeStatistics`, plus ManiSkill's success flags).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EpisodeStats {
    /// Undiscounted sum of rewards.
    pub ret: f64,
    /// Number of steps.
    pub length: u32,
    /// Whether `success` was true at any step.
    pub success_once: bool,
    /// Whether `success` was true at the last step.
    pub success_at_end: bool,
    /// Whether the episode ended by `terminated` (otherwise it was truncated).
    pub terminated: bool,
}

/// One env's info for one step, written in place by the env.
#[derive(Debug)]
pub struct InfoMut<'a> {
    /// Whether the task is solved in this state.
    pub success: &'a mut bool,
    /// Reward-term values, in [`InfoLayout::reward_terms`] order.
    pub reward_terms: &'a mut [f32],
    /// Metric values, in [`InfoLayout::metrics`] order.
    pub metrics: &'a mut [f32],
    /// Set on the last step of an episode by [`crate::EpisodeStatistics`]; `None` otherwise.
    pub episode: &'a mut Option<EpisodeStats>,
}

impl InfoMut<'_> {
    /// A shorter-lived copy of these borrows.
    pub fn reborrow(&mut self) -> InfoMut<'_> {
        InfoMut {
            success: &mut *self.success,
            reward_terms: &mut *self.reward_terms,
            metrics: &mut *self.metrics,
            episode: &mut *self.episode,
        }
    }

    /// Reset every field to its neutral value (false, zeros, no episode).
    pub fn clear(&mut self) {
        *self.success = false;
        self.reward_terms.fill(0.0);
        self.metrics.fill(0.0);
        *self.episode = None;
    }
}

/// The infos of a batch, column by column (structure of arrays).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InfoBatch {
    /// `success` per env.
    pub success: Vec<bool>,
    /// Reward terms, `num_envs × layout.reward_terms.len()`, env-major.
    pub reward_terms: Vec<f32>,
    /// Metrics, `num_envs × layout.metrics.len()`, env-major.
    pub metrics: Vec<f32>,
    /// Episode statistics per env, `Some` where an episode ended.
    pub episode: Vec<Option<EpisodeStats>>,
    n_terms: usize,
    n_metrics: usize,
}

impl InfoBatch {
    /// Zeroed infos for `num_envs` envs with `layout`.
    pub fn new(num_envs: usize, layout: &InfoLayout) -> Self {
        let (n_terms, n_metrics) = (layout.reward_terms.len(), layout.metrics.len());
        Self {
            success: vec![false; num_envs],
            reward_terms: vec![0.0; num_envs * n_terms],
            metrics: vec![0.0; num_envs * n_metrics],
            episode: vec![None; num_envs],
            n_terms,
            n_metrics,
        }
    }

    /// Mutable view of env `i`'s info.
    pub fn get_mut(&mut self, i: usize) -> InfoMut<'_> {
        InfoMut {
            success: &mut self.success[i],
            reward_terms: &mut self.reward_terms[i * self.n_terms..(i + 1) * self.n_terms],
            metrics: &mut self.metrics[i * self.n_metrics..(i + 1) * self.n_metrics],
            episode: &mut self.episode[i],
        }
    }

    /// Env `i`'s reward terms.
    pub fn terms(&self, i: usize) -> &[f32] {
        &self.reward_terms[i * self.n_terms..(i + 1) * self.n_terms]
    }

    /// Env `i`'s metrics.
    pub fn metrics_of(&self, i: usize) -> &[f32] {
        &self.metrics[i * self.n_metrics..(i + 1) * self.n_metrics]
    }

    /// Copy env `src_i` of `src` into env `dst_i` of `self` (same layout).
    pub fn copy_env_from(&mut self, dst_i: usize, src: &InfoBatch, src_i: usize) {
        self.success[dst_i] = src.success[src_i];
        self.episode[dst_i] = src.episode[src_i];
        let (t, m) = (self.n_terms, self.n_metrics);
        self.reward_terms[dst_i * t..(dst_i + 1) * t].copy_from_slice(src.terms(src_i));
        self.metrics[dst_i * m..(dst_i + 1) * m].copy_from_slice(src.metrics_of(src_i));
    }
}
