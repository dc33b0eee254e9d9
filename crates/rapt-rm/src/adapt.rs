//! One-shot adaptation: fine-tune a reward model on a single demonstration of a task
//! variant, with Φ labels t/(T − 1) (the demo is assumed to make steady progress; no oracle
//! labels are used).

use rapt_ppo::{AdamConfig, FlatAdam};
use tch::{Kind, Reduction, Tensor};

use crate::dataset::{Episode, Manifest};
use crate::reward_model::RewardModel;
use crate::samples::{Samples, view_dropout_mask};

/// Fine-tuning settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptConfig {
    /// Adam steps over the demo's frames (default 200).
    pub steps: usize,
    /// Learning rate (default 3e-4).
    pub learning_rate: f64,
    /// View dropout per frame set (default 0.25).
    pub view_dropout: f64,
    /// Seed of the dropout draws (default 1).
    pub seed: u64,
}

impl Default for AdaptConfig {
    fn default() -> Self {
        Self {
            steps: 200,
            learning_rate: 3e-4,
            view_dropout: 0.25,
            seed: 1,
        }
    }
}

/// Fine-tune `model` in place on `demo` (recorded under `manifest`); returns the final
/// loss (MSE of Φ against t/(T − 1)).
pub fn adapt(
    model: &mut RewardModel,
    manifest: &Manifest,
    demo: &Episode,
    cfg: AdaptConfig,
) -> Result<f64, String> {
    let shape = &model.meta().shape;
    if shape.views != manifest.views || shape.size != manifest.size {
        return Err(format!(
            "the model reads {:?} at {} px, the demo has {:?} at {} px",
            shape.views, shape.size, manifest.views, manifest.size
        ));
    }
    let t = demo.header.steps;
    if t < 2 {
        return Err(format!("the demo has {t} steps; at least 2 are needed"));
    }
    let device = model.device();
    let samples = Samples::new(manifest, &[demo], device);
    let labels = Tensor::arange(t as i64, (Kind::Float, device)) / (t - 1) as f64;
    let stages = shape.stages;
    let v = shape.views.len() as i64;
    tch::manual_seed(cfg.seed as i64);
    let mut adam = FlatAdam::new(model.var_store(), AdamConfig::default());
    let mut last = f64::NAN;
    for _ in 0..cfg.steps {
        let mask = (cfg.view_dropout > 0.0)
            .then(|| view_dropout_mask(t as i64, v, cfg.view_dropout, device));
        let phi = model
            .net()
            .forward(&samples.frames, mask.as_ref())
            .phi(stages);
        let loss = phi.mse_loss(&labels, Reduction::Mean);
        last = loss.double_value(&[]);
        adam.backward_step(&loss, cfg.learning_rate, Some(1.0));
    }
    Ok(last)
}
