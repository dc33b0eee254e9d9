//! How good a reward model is on held-out episodes: value-order consistency (VOC), MAE
//! against the oracle Φ, stage accuracy, episode outcome classification, calibration.

use crate::ModelError;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::dataset::{Episode, Manifest};
use crate::reward_model::RewardModel;
use crate::samples::Samples;

/// Final Φ at or above this is called a success.
pub const SUCCESS_PHI: f32 = 0.9;
/// Final Φ at or above this (and below [`SUCCESS_PHI`]) is called partial progress.
pub const PARTIAL_PHI: f32 = 0.3;

/// An episode's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The task was solved at the end.
    Success,
    /// Some progress, not solved.
    Partial,
    /// Little or no progress.
    Failure,
}

impl Outcome {
    /// Outcome from a final Φ.
    pub fn from_phi(phi: f32) -> Self {
        if phi >= SUCCESS_PHI {
            Outcome::Success
        } else if phi >= PARTIAL_PHI {
            Outcome::Partial
        } else {
            Outcome::Failure
        }
    }
}

/// Calibration: predicted Φ binned in tenths against the oracle's mean in each bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Lower edge of the bin of predicted Φ.
    pub low: f32,
    /// Frame sets in the bin.
    pub count: usize,
    /// Mean predicted Φ.
    pub predicted: f64,
    /// Mean oracle Φ.
    pub oracle: f64,
}

/// The evaluation report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Episodes evaluated.
    pub episodes: usize,
    /// Frame sets evaluated.
    pub frame_sets: usize,
    /// Mean over successful episodes of Spearman's ρ between predicted Φ and time, from
    /// the reset to the first successful step (Robo-Dopamine's value-order consistency).
    pub voc: f64,
    /// Successful episodes VOC was measured on.
    pub voc_episodes: usize,
    /// VOC of the oracle's own Φ on the same episodes (perturbed and clipped episodes
    /// do not progress monotonically, so even the oracle stays below 1).
    pub oracle_voc: f64,
    /// VOC on the successful scripted-expert episodes only (Robo-Dopamine measures VOC on
    /// expert trajectories).
    pub voc_expert: f64,
    /// Expert episodes in `voc_expert`.
    pub voc_expert_episodes: usize,
    /// Mean |Φ̂ − Φ| over every frame set.
    pub mae: f64,
    /// Fraction of frame sets whose most likely stage is the oracle's.
    pub stage_accuracy: f64,
    /// Fraction of episodes whose outcome from the final predicted Φ matches the truth
    /// (success flag, else the oracle's final Φ).
    pub outcome_accuracy: f64,
    /// Confusion counts `[truth][predicted]` in the order success, partial, failure.
    pub outcome_confusion: [[usize; 3]; 3],
    /// Calibration bins.
    pub calibration: Vec<CalibrationBin>,
}

/// Spearman's rank correlation of `x` with `y` (average ranks for ties); NaN when either
/// is constant or shorter than 2.
pub fn spearman(x: &[f32], y: &[f32]) -> f64 {
    fn ranks(v: &[f32]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0;
            for &k in &idx[i..=j] {
                r[k] = avg;
            }
            i = j + 1;
        }
        r
    }
    if x.len() < 2 || x.len() != y.len() {
        return f64::NAN;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    sxy / (sxx * syy).sqrt()
}

fn outcome_index(o: Outcome) -> usize {
    match o {
        Outcome::Success => 0,
        Outcome::Partial => 1,
        Outcome::Failure => 2,
    }
}

/// Φ̂ (`[N]` f32) and the most likely stage (`[N]` i64) of every row of `samples`, in
/// chunks of 512, without gradients.
pub fn predict(model: &RewardModel, samples: &Samples) -> (Tensor, Tensor) {
    let _guard = tch::no_grad_guard();
    let (mut phi, mut stage) = (Vec::new(), Vec::new());
    let n = samples.len();
    let mut start = 0;
    while start < n {
        let end = (start + 512).min(n);
        let rows = samples.range(start, end);
        let (p, s) = model.predict(&rows.frames, rows.task.as_ref());
        phi.push(p);
        stage.push(s.to_kind(Kind::Int64));
        start = end;
    }
    if phi.is_empty() {
        let empty = Tensor::zeros([0], (Kind::Float, model.device()));
        return (empty.shallow_clone(), empty.to_kind(Kind::Int64));
    }
    (Tensor::cat(&phi, 0), Tensor::cat(&stage, 0))
}

/// Evaluate `model` on the held-out episodes of the dataset in `dataset` (corrupted
/// episode files left out and returned with `skip_corrupt`, an error otherwise): the
/// report, and the dataset's manifest.
pub fn evaluate_dataset(
    model: &RewardModel,
    dataset: &std::path::Path,
    skip_corrupt: bool,
) -> Result<(EvalReport, Manifest, Vec<crate::DatasetError>), ModelError> {
    let invalid = |message: String| ModelError::Mismatch(message);
    let (manifest, episodes, skipped) =
        crate::read_datasets(&[dataset.to_path_buf()], skip_corrupt)
            .map_err(|e| invalid(format!("reading {}: {e}", dataset.display())))?;
    if episodes.is_empty() {
        return Err(invalid(format!("{}: no episodes", dataset.display())));
    }
    Ok((evaluate(model, &manifest, &episodes)?, manifest, skipped))
}

/// Evaluate `model` on `episodes` recorded under `manifest`.
pub fn evaluate(
    model: &RewardModel,
    manifest: &Manifest,
    episodes: &[Episode],
) -> Result<EvalReport, ModelError> {
    let shape = &model.meta().shape;
    if shape.views != manifest.views || shape.size != manifest.size {
        return Err(ModelError::Mismatch(format!(
            "the model reads {:?} at {} px, the dataset has {:?} at {} px",
            shape.views, shape.size, manifest.views, manifest.size
        )));
    }
    let task = model.meta().task_index(&manifest.env)?;
    let refs: Vec<&Episode> = episodes.iter().collect();
    let samples = Samples::for_task(manifest, &refs, task, model.device());
    let (phi, stage) = predict(model, &samples);
    let phi_hat = Vec::<f32>::try_from(phi.to_device(tch::Device::Cpu))?;
    let stage_hat = Vec::<i64>::try_from(stage.to_device(tch::Device::Cpu))?;
    let n = samples.len();
    let (mut abs, mut correct) = (0.0, 0usize);
    let mut voc = Vec::new();
    let mut oracle_voc = Vec::new();
    let mut voc_expert = Vec::new();
    let mut confusion = [[0usize; 3]; 3];
    let mut bins = vec![(0usize, 0.0f64, 0.0f64); 10];
    for (ep, range) in episodes.iter().zip(&samples.episodes) {
        let pred = &phi_hat[range.clone()];
        for (k, (&p, &o)) in pred.iter().zip(&ep.phi).enumerate() {
            abs += f64::from((p - o).abs());
            correct += usize::from(stage_hat[range.start + k] == i64::from(ep.stage[k]));
            let bin = &mut bins[((p * 10.0) as usize).min(9)];
            bin.0 += 1;
            bin.1 += f64::from(p);
            bin.2 += f64::from(o);
        }
        // VOC on the way to the goal: up to the first successful step (after it, Φ is
        // flat at 1 and the order of the predictions carries no information).
        let first = ep.success.iter().position(|&s| s).map(|i| i + 1);
        if let Some(end) = first.filter(|&e| ep.header.success && e >= 2) {
            let t: Vec<f32> = (0..end).map(|i| i as f32).collect();
            let rho = spearman(&pred[..end], &t);
            if rho.is_finite() {
                voc.push(rho);
                if ep.header.kind == crate::EpisodeKind::Expert {
                    voc_expert.push(rho);
                }
                let oracle = spearman(&ep.phi[..end], &t);
                oracle_voc.push(if oracle.is_finite() { oracle } else { 0.0 });
            }
        }
        if let (Some(&last_pred), Some(&last_true)) = (pred.last(), ep.phi.last()) {
            let truth = if ep.header.success {
                Outcome::Success
            } else if last_true >= PARTIAL_PHI {
                Outcome::Partial
            } else {
                Outcome::Failure
            };
            confusion[outcome_index(truth)][outcome_index(Outcome::from_phi(last_pred))] += 1;
        }
    }
    let episodes_n = episodes.len();
    let diag: usize = (0..3).map(|i| confusion[i][i]).sum();
    Ok(EvalReport {
        episodes: episodes_n,
        frame_sets: n,
        voc: mean(&voc),
        voc_episodes: voc.len(),
        oracle_voc: mean(&oracle_voc),
        voc_expert: mean(&voc_expert),
        voc_expert_episodes: voc_expert.len(),
        mae: abs / n.max(1) as f64,
        stage_accuracy: correct as f64 / n.max(1) as f64,
        outcome_accuracy: diag as f64 / episodes_n.max(1) as f64,
        outcome_confusion: confusion,
        calibration: bins
            .iter()
            .enumerate()
            .map(|(i, &(c, p, o))| CalibrationBin {
                low: i as f32 / 10.0,
                count: c,
                predicted: if c > 0 { p / c as f64 } else { f64::NAN },
                oracle: if c > 0 { o / c as f64 } else { f64::NAN },
            })
            .collect(),
    })
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

impl std::fmt::Display for EvalReport {
    /// VOC, MAE, stage and outcome accuracy, the confusion matrix and the calibration
    /// bins, one figure per line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "VOC (Spearman ρ of Φ̂ with time to the first success, {} successful episodes): {:.3} (the oracle's Φ: {:.3})",
            self.voc_episodes, self.voc, self.oracle_voc
        )?;
        writeln!(
            f,
            "VOC on the {} successful expert episodes: {:.3}",
            self.voc_expert_episodes, self.voc_expert
        )?;
        writeln!(f, "MAE against the oracle Φ: {:.4}", self.mae)?;
        writeln!(f, "stage accuracy: {:.3}", self.stage_accuracy)?;
        writeln!(
            f,
            "outcome accuracy (success / partial / failure from the final Φ̂): {:.3}",
            self.outcome_accuracy
        )?;
        writeln!(
            f,
            "confusion [truth][predicted] (success, partial, failure): {:?}",
            self.outcome_confusion
        )?;
        writeln!(
            f,
            "calibration (predicted bin: mean predicted → mean oracle, count):"
        )?;
        for b in self.calibration.iter().filter(|b| b.count > 0) {
            let high = b.low + 0.1;
            writeln!(
                f,
                "  [{:.1}, {high:.1}): {:.3} → {:.3} ({})",
                b.low, b.predicted, b.oracle, b.count
            )?;
        }
        Ok(())
    }
}

/// The calibration plot of `bins`: x = mean predicted Φ of a bin, y = mean oracle Φ,
/// both 0 to 1 with labelled axes and ticks, the diagonal of perfect calibration, each
/// bin a marked point labelled with its count of frame sets. `title` names the model and
/// the data (e.g. `rm-push-v5 on push-val`).
pub fn calibration_chart(bins: &[CalibrationBin], title: &str) -> rapt_rundir::plot::Chart {
    let filled: Vec<&CalibrationBin> = bins.iter().filter(|b| b.count > 0).collect();
    rapt_rundir::plot::Chart {
        title: title.to_owned(),
        x_label: "predicted Φ (mean of the bin)".into(),
        y_label: "oracle Φ (mean of the bin)".into(),
        series: vec![rapt_rundir::plot::Series {
            label: "bins of predicted Φ, 0.1 wide (n: frame sets)".into(),
            points: filled.iter().map(|b| (b.predicted, b.oracle)).collect(),
            band: Vec::new(),
            markers: true,
        }],
        x_range: Some((0.0, 1.0)),
        y_range: Some((0.0, 1.0)),
        diagonal: true,
        // Each bin's count beside its point: to the right, or to the left near the
        // right edge, where it would be cut off.
        notes: filled
            .iter()
            .map(|b| {
                let x = if b.predicted > 0.85 {
                    b.predicted - 0.14
                } else {
                    b.predicted + 0.015
                };
                (x, b.oracle - 0.012, format!("n={}", b.count))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_handles_order_ties_and_constants() {
        let t = [0.0, 1.0, 2.0, 3.0];
        assert!((spearman(&[0.1, 0.2, 0.5, 0.9], &t) - 1.0).abs() < 1e-12);
        assert!((spearman(&[0.9, 0.5, 0.2, 0.1], &t) + 1.0).abs() < 1e-12);
        let tied = spearman(&[0.1, 0.1, 0.5, 0.9], &t);
        assert!(tied > 0.9 && tied < 1.0, "{tied}");
        assert!(spearman(&[0.3; 4], &t).is_nan());
    }

    #[test]
    fn outcomes_follow_the_thresholds() {
        assert_eq!(Outcome::from_phi(0.95), Outcome::Success);
        assert_eq!(Outcome::from_phi(0.5), Outcome::Partial);
        assert_eq!(Outcome::from_phi(0.1), Outcome::Failure);
    }
}
