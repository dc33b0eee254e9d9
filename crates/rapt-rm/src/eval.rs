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
        let out = model.net().forward(&samples.range(start, end).frames, None);
        phi.push(out.phi(model.meta().shape.stages));
        stage.push(out.stage_logits.argmax(1, false).to_kind(Kind::Int64));
        start = end;
    }
    if phi.is_empty() {
        let empty = Tensor::zeros([0], (Kind::Float, model.device()));
        return (empty.shallow_clone(), empty.to_kind(Kind::Int64));
    }
    (Tensor::cat(&phi, 0), Tensor::cat(&stage, 0))
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
    let refs: Vec<&Episode> = episodes.iter().collect();
    let samples = Samples::new(manifest, &refs, model.device());
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

/// A calibration plot: x = mean predicted Φ of a bin, y = mean oracle Φ, both 0 to 1 with
/// ticks every 0.1; the diagonal (perfect calibration) in grey, each bin a blue square
/// sized by its share of frame sets, on a `px × px` white canvas.
pub fn calibration_png(bins: &[CalibrationBin], px: u32) -> image::RgbImage {
    let mut img = image::RgbImage::from_pixel(px, px, image::Rgb([255, 255, 255]));
    let margin = px / 10;
    let span = px - 2 * margin;
    let to_px = |v: f64| -> (u32, u32) {
        let x = margin + (v.clamp(0.0, 1.0) * f64::from(span)) as u32;
        (x.min(px - 1), x.min(px - 1))
    };
    // Axes and diagonal.
    for i in 0..=span {
        let (a, b) = (margin + i, px - margin - i);
        img.put_pixel(a, px - margin, image::Rgb([0, 0, 0]));
        img.put_pixel(margin, px - margin - i, image::Rgb([0, 0, 0]));
        img.put_pixel(a, b.min(px - 1), image::Rgb([170, 170, 170]));
    }
    // Ticks every 0.1 on both axes (longer at 0.5 and 1).
    for k in 0..=10u32 {
        let at = margin + span * k / 10;
        let len = if k % 5 == 0 { 8 } else { 4 };
        for d in 0..len {
            img.put_pixel(at, (px - margin + d).min(px - 1), image::Rgb([0, 0, 0]));
            img.put_pixel(
                margin.saturating_sub(d),
                px - margin - span * k / 10,
                image::Rgb([0, 0, 0]),
            );
        }
    }
    let total: usize = bins.iter().map(|b| b.count).sum::<usize>().max(1);
    for b in bins.iter().filter(|b| b.count > 0) {
        let (x, _) = to_px(b.predicted);
        let (y, _) = to_px(b.oracle);
        let y = px - 1 - y;
        let r = 2 + (f64::from(span) * 0.04 * (b.count as f64 / total as f64).sqrt()) as i64;
        for dx in -r..=r {
            for dy in -r..=r {
                let (xx, yy) = (x as i64 + dx, y as i64 + dy);
                if (0..px as i64).contains(&xx) && (0..px as i64).contains(&yy) {
                    img.put_pixel(xx as u32, yy as u32, image::Rgb([31, 119, 180]));
                }
            }
        }
    }
    img
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
