//! Running mean and variance (Chan et al.'s parallel update, as Gymnasium's
//! `NormalizeObservation` and CleanRL use) for observation normalization and reward
//! scaling. Kept in f64 so long runs do not drift; saved with checkpoints.

/// Per-dimension running mean and variance of a stream of vectors.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunningMeanStd {
    /// Mean per dimension.
    pub mean: Vec<f64>,
    /// Population variance per dimension.
    pub var: Vec<f64>,
    /// Number of samples seen (starts at 1e-4, as Gymnasium's, to avoid dividing by 0).
    pub count: f64,
}

impl RunningMeanStd {
    /// Statistics for vectors of `dim` elements: mean 0, variance 1.
    pub fn new(dim: usize) -> Self {
        Self {
            mean: vec![0.0; dim],
            var: vec![1.0; dim],
            count: 1e-4,
        }
    }

    /// Number of dimensions.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Fold a batch of `batch.len() / dim` row-major vectors into the statistics.
    pub fn update(&mut self, batch: &[f32]) {
        if let Some(m) = self.moments(batch) {
            self.merge(&m);
        }
    }

    /// Fold the batches of every rank of `dist` into the statistics, each rank's
    /// `batch` (rows of the same `dim`) in rank order, so that every rank ends with the
    /// same statistics: one collective; [`RunningMeanStd::update`] for one process.
    pub fn update_across(&mut self, batch: &[f32], dist: &dyn crate::Collective) {
        if dist.size() == 1 {
            return self.update(batch);
        }
        let d = self.dim();
        let mut local = vec![0.0; 1 + 2 * d];
        if let Some(m) = self.moments(batch) {
            local[0] = m.count;
            local[1..=d].copy_from_slice(&m.mean);
            local[1 + d..].copy_from_slice(&m.var);
        }
        for rank in dist.all_gather_f64(&local).chunks_exact(1 + 2 * d) {
            if rank[0] > 0.0 {
                self.merge(&Moments {
                    count: rank[0],
                    mean: rank[1..=d].to_vec(),
                    var: rank[1 + d..].to_vec(),
                });
            }
        }
    }

    /// Count, mean and population variance per dimension of a batch of row-major
    /// vectors; `None` for an empty batch.
    pub fn moments(&self, batch: &[f32]) -> Option<Moments> {
        let d = self.dim();
        assert!(
            d > 0 && batch.len().is_multiple_of(d),
            "batch is not a whole number of rows"
        );
        let n = (batch.len() / d) as f64;
        if n == 0.0 {
            return None;
        }
        let mut m = Moments {
            count: n,
            mean: vec![0.0; d],
            var: vec![0.0; d],
        };
        for j in 0..d {
            let column = batch.iter().skip(j).step_by(d).map(|&x| f64::from(x));
            let mean = column.clone().sum::<f64>() / n;
            m.var[j] = column.map(|x| (x - mean).powi(2)).sum::<f64>() / n;
            m.mean[j] = mean;
        }
        Some(m)
    }

    /// Fold a batch's moments into the statistics (Chan et al.'s parallel update).
    pub fn merge(&mut self, batch: &Moments) {
        let n = batch.count;
        let total = self.count + n;
        for j in 0..self.dim() {
            let delta = batch.mean[j] - self.mean[j];
            let m2 = self.var[j] * self.count
                + batch.var[j] * n
                + delta * delta * self.count * n / total;
            self.mean[j] += delta * n / total;
            self.var[j] = m2 / total;
        }
        self.count = total;
    }

    /// Normalize `x` in place: (x − mean) / sqrt(var + 1e-8), clipped to ±`clip`.
    pub fn normalize(&self, x: &mut [f32], clip: f32) {
        let d = self.dim();
        for (k, v) in x.iter_mut().enumerate() {
            let j = k % d;
            let z = (f64::from(*v) - self.mean[j]) / (self.var[j] + 1e-8).sqrt();
            *v = (z as f32).clamp(-clip, clip);
        }
    }
}

/// Count, mean and population variance per dimension of one batch of vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    /// Rows in the batch.
    pub count: f64,
    /// Mean per dimension.
    pub mean: Vec<f64>,
    /// Population variance per dimension.
    pub var: Vec<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_updates_match_the_statistics_of_all_samples() {
        let data: Vec<f32> = (0..60)
            .map(|i| ((i * 37) % 11) as f32 * 0.5 - 1.0)
            .collect();
        let mut rms = RunningMeanStd::new(3);
        for chunk in data.chunks(9) {
            rms.update(&chunk[..chunk.len() / 3 * 3]);
        }
        for j in 0..3 {
            let col: Vec<f64> = data
                .iter()
                .skip(j)
                .step_by(3)
                .map(|&x| f64::from(x))
                .collect();
            let mean = col.iter().sum::<f64>() / col.len() as f64;
            let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / col.len() as f64;
            assert!((rms.mean[j] - mean).abs() < 1e-3, "mean {j}");
            assert!(
                (rms.var[j] - var).abs() < 1e-2,
                "var {j}: {} vs {var}",
                rms.var[j]
            );
        }
    }

    #[test]
    fn normalize_centres_scales_and_clips() {
        let mut rms = RunningMeanStd::new(1);
        rms.update(&[1.0, 3.0, 1.0, 3.0]);
        let mut x = [2.0, 3.0, 1000.0];
        rms.normalize(&mut x, 5.0);
        assert!(
            x[0].abs() < 1e-3 && (x[1] - 1.0).abs() < 1e-3 && x[2] == 5.0,
            "{x:?}"
        );
    }
}
