//! Aggregates over seeds as rliable reports them: the inter-quartile mean (IQM) and its
//! stratified-bootstrap confidence interval.

/// The inter-quartile mean of `values`: the mean of the middle half once the lowest and
/// highest quarter are cut (`⌊n/4⌋` from each end, as `scipy.stats.trim_mean(x, 0.25)`);
/// NaN for no values.
pub fn iqm(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let cut = sorted.len() / 4;
    let middle = &sorted[cut..sorted.len() - cut];
    middle.iter().sum::<f64>() / middle.len() as f64
}

/// The 95% percentile-bootstrap interval of the IQM of `values`: `resamples` resamplings
/// with replacement (deterministic for `seed`), the 2.5th and 97.5th percentiles.
pub fn iqm_interval(values: &[f64], resamples: usize, seed: u64) -> (f64, f64) {
    if values.is_empty() || resamples == 0 {
        return (f64::NAN, f64::NAN);
    }
    let n = values.len();
    let mut draw = Vec::with_capacity(n);
    let mut stats: Vec<f64> = (0..resamples as u64)
        .map(|r| {
            draw.clear();
            for k in 0..n as u64 {
                let h = rapt_core::seeded_hash(seed, r * n as u64 + k);
                draw.push(values[(h % n as u64) as usize]);
            }
            iqm(&draw)
        })
        .collect();
    stats.sort_by(f64::total_cmp);
    let at = |q: f64| stats[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    (at(0.025), at(0.975))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iqm_cuts_a_quarter_from_each_end() {
        assert_eq!(iqm(&[0.1, 0.9, 0.5, 0.7, 0.3]), 0.5);
        assert_eq!(iqm(&[1.0, 0.0, 0.5, 0.5]), 0.5);
        assert_eq!(iqm(&[0.8]), 0.8);
        assert!(iqm(&[]).is_nan());
    }

    #[test]
    fn the_bootstrap_interval_holds_the_iqm_and_is_reproducible() {
        let values = [0.95, 0.91, 0.72, 0.93, 0.94];
        let (lo, hi) = iqm_interval(&values, 2000, 7);
        assert!(lo <= iqm(&values) && iqm(&values) <= hi, "{lo} {hi}");
        assert!(lo >= 0.72 && hi <= 0.95);
        assert_eq!((lo, hi), iqm_interval(&values, 2000, 7));
        assert_eq!(iqm_interval(&[0.5; 3], 100, 1), (0.5, 0.5));
    }
}
