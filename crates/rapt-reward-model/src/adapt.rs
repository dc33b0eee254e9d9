//! One-shot adaptation: fine-tune a reward model on a single demonstration of a task
//! variant it was not trained on. The demo's labels are its progress t/(T − 1), used for
//! their order (a pairwise ranking loss) and its end (Φ = 1 once done): no oracle labels
//! of the variant are used. A demonstration ends when the task is done, so steps after its
//! first successful one are dropped. Optionally, minibatches of the original training
//! data are rehearsed alongside so the model does not forget the task it knew.

use crate::ModelError;
use rapt_ppo::{AdamConfig, FlatAdam};
use tch::{Kind, Tensor};

use crate::dataset::{Episode, Manifest};
use crate::reward_model::RewardModel;
use crate::samples::{Samples, view_dropout_mask};
use crate::train::{RewardModelConfig, losses};

/// Demo frames closer than this in time are not ranked (steps).
const MIN_GAP: i64 = 10;

/// Fine-tuning settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptConfig {
    /// Adam steps (default 200).
    pub steps: usize,
    /// Learning rate (default 3e-4).
    pub learning_rate: f64,
    /// View dropout per frame set (default 0.25).
    pub view_dropout: f64,
    /// Pairs of demo frames per step for the ranking loss (default 512).
    pub pairs: i64,
    /// Rehearsal minibatch from the original data per step (default 128; 0 = none).
    pub replay_batch: i64,
    /// Fine-tune only the first convolution (where colour and texture enter), keeping
    /// the rest of the network as trained (default true: one demo is little data).
    pub first_conv_only: bool,
    /// Seed of the draws (default 1).
    pub seed: u64,
}

impl Default for AdaptConfig {
    fn default() -> Self {
        Self {
            steps: 200,
            learning_rate: 3e-4,
            view_dropout: 0.25,
            pairs: 512,
            replay_batch: 128,
            first_conv_only: true,
            seed: 1,
        }
    }
}

/// What adaptation did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptReport {
    /// Demo steps used (up to its first success).
    pub demo_steps: usize,
    /// Fraction of ordered demo pairs the model ranks correctly, before and after.
    pub demo_order: (f64, f64),
}

/// Fine-tune `model` on the demonstration in the episode file `demo`
/// (`DATASET/episodes/ep-NNNNNN.rep`: its dataset's manifest says what it holds),
/// rehearsing the episodes of the dataset `replay` (the original training data) when
/// given; what `rapt reward-model adapt` does before it saves the model.
pub fn adapt_from_demo(
    model: &mut RewardModel,
    demo: &std::path::Path,
    replay: Option<&std::path::Path>,
    cfg: AdaptConfig,
) -> Result<AdaptReport, ModelError> {
    let invalid = |message: String| ModelError::Mismatch(message);
    let dataset = demo
        .parent()
        .and_then(std::path::Path::parent)
        .ok_or_else(|| {
            invalid(format!(
                "--demo {}: expected DATASET/episodes/ep-NNNNNN.rep",
                demo.display()
            ))
        })?;
    let manifest = crate::read_manifest(dataset)
        .map_err(|e| invalid(format!("--demo {}: its dataset: {e}", demo.display())))?;
    let episode = crate::read_episode(demo, &manifest)
        .map_err(|e| invalid(format!("--demo {}: {e}", demo.display())))?;
    let device = model.device();
    let replay = match replay {
        None => None,
        Some(dir) => {
            let (m, episodes, _) = crate::read_datasets(&[dir.to_path_buf()], false)
                .map_err(|e| invalid(format!("--replay {}: {e}", dir.display())))?;
            if m.views != manifest.views || m.size != manifest.size {
                return Err(invalid(format!(
                    "--replay {}: its frames ({:?} at {} px) differ from the demo's ({:?} at {} px)",
                    dir.display(),
                    m.views,
                    m.size,
                    manifest.views,
                    manifest.size
                )));
            }
            let refs: Vec<&Episode> = episodes.iter().collect();
            let task = model.meta().task_index(&m.env)?;
            Some(Samples::for_task(&m, &refs, task, device))
        }
    };
    adapt(model, &manifest, &episode, replay.as_ref(), cfg)
}

/// Fraction of frame pairs at least [`MIN_GAP`] steps apart in the right order.
fn order_accuracy(phi: &Tensor) -> f64 {
    let d = phi.unsqueeze(0) - phi.unsqueeze(1); // [i, j] = Φ_j − Φ_i
    let n = phi.size()[0];
    let upper = Tensor::ones([n, n], (Kind::Bool, phi.device())).triu(MIN_GAP);
    let right = d
        .gt(0.0)
        .logical_and(&upper)
        .sum(Kind::Float)
        .double_value(&[]);
    right / upper.sum(Kind::Float).double_value(&[]).max(1.0)
}

/// The non-decreasing sequence closest to `y` in squared error (pool adjacent
/// violators), with its last value raised to 1 (the demo ends done).
pub fn isotonic_to_one(y: &[f32]) -> Vec<f32> {
    let mut blocks: Vec<(f64, usize)> = Vec::new();
    for (i, &v) in y.iter().enumerate() {
        let v = if i + 1 == y.len() { 1.0 } else { f64::from(v) };
        blocks.push((v, 1));
        while blocks.len() > 1 && blocks[blocks.len() - 2].0 > blocks[blocks.len() - 1].0 {
            let (b, nb) = blocks.pop().expect("two blocks");
            let (a, na) = blocks.pop().expect("two blocks");
            blocks.push(((a * na as f64 + b * nb as f64) / (na + nb) as f64, na + nb));
        }
    }
    blocks
        .iter()
        .flat_map(|&(v, n)| std::iter::repeat_n(v as f32, n))
        .collect()
}

/// Fine-tune `model` in place on `demo` (recorded under `manifest`), rehearsing `replay`
/// (the original training data) when given.
pub fn adapt(
    model: &mut RewardModel,
    manifest: &Manifest,
    demo: &Episode,
    replay: Option<&Samples>,
    cfg: AdaptConfig,
) -> Result<AdaptReport, ModelError> {
    model.single("adapting")?;
    let shape = model.meta().shape.clone();
    if shape.views != manifest.views || shape.size != manifest.size {
        return Err(ModelError::Mismatch(format!(
            "the model reads {:?} at {} px, the demo has {:?} at {} px",
            shape.views, shape.size, manifest.views, manifest.size
        )));
    }
    let t = demo
        .success
        .iter()
        .position(|&s| s)
        .map_or(demo.header.steps, |i| i + 1);
    if t < 2 {
        return Err(ModelError::Mismatch(format!(
            "the demo has {t} steps to success; at least 2 are needed"
        )));
    }
    let demo = demo.clipped(t, manifest.frame_set_bytes(), demo.header.kind);
    let device = model.device();
    let task = model.meta().task_index(&manifest.env)?;
    let samples = Samples::for_task(manifest, &[&demo], task, device);
    let phi_now = |m: &RewardModel| m.phi_tensor(&samples.frames, 512, task);
    let before = order_accuracy(&phi_now(model));
    let v = shape.views.len() as i64;
    let n = t as i64;
    let train_cfg = RewardModelConfig::default();
    tch::manual_seed(cfg.seed as i64);
    if cfg.first_conv_only {
        for (name, mut var) in model.var_store().variables() {
            if !name.starts_with("conv0.") {
                let _ = var.requires_grad_(false);
            }
        }
    }
    let mut adam = FlatAdam::new(model.var_store(), AdamConfig::default());
    for _ in 0..cfg.steps {
        let mask =
            (cfg.view_dropout > 0.0).then(|| view_dropout_mask(n, v, cfg.view_dropout, device));
        let phi = model
            .net()
            .forward(&samples.frames, mask.as_ref(), samples.task.as_ref())
            .phi(shape.stages);
        // The demo says progress never goes back: pull Φ towards the closest
        // non-decreasing sequence (its isotonic fit), which ends at 1.
        let pred = Vec::<f32>::try_from(phi.detach().to_device(tch::Device::Cpu))?;
        let target = Tensor::from_slice(&isotonic_to_one(&pred)).to_device(device);
        let rank = (&phi - target).square().mean(Kind::Float);
        let end = (phi.get(n - 1) - 1.0).square();
        let mut loss = rank + end;
        if let Some(data) = replay.filter(|_| cfg.replay_batch > 0) {
            let idx = Tensor::randint(data.len() as i64, [cfg.replay_batch], (Kind::Int64, device));
            let m = view_dropout_mask(cfg.replay_batch, v, cfg.view_dropout, device);
            let (rehearse, ..) = losses(model, &data.batch(&idx), Some(&m), &train_cfg);
            loss += rehearse;
        }
        adam.backward_step(&loss, cfg.learning_rate, Some(1.0));
    }
    let after = order_accuracy(&phi_now(model));
    Ok(AdaptReport {
        demo_steps: t,
        demo_order: (before, after),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_fit_pools_violations_and_ends_at_one() {
        let y = isotonic_to_one(&[0.1, 0.3, 0.2, 0.5, 0.4]);
        assert_eq!(y.len(), 5);
        assert!(y.windows(2).all(|w| w[0] <= w[1]), "{y:?}");
        assert!(
            (y[1] - 0.25).abs() < 1e-6 && (y[2] - 0.25).abs() < 1e-6,
            "{y:?}"
        );
        assert_eq!(y[4], 1.0);
        assert_eq!(isotonic_to_one(&[0.9, 0.1]), vec![0.9, 1.0]);
    }
}
