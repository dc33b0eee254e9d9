//! The PPO losses, detail for detail as CleanRL computes them: clipped surrogate on
//! normalized advantages, clipped value loss, entropy bonus, and the approx-KL and
//! clip-fraction diagnostics.

use tch::{Kind, Tensor};

/// Loss coefficients (CleanRL's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossConfig {
    /// Surrogate clipping ε (default 0.2).
    pub clip_coef: f64,
    /// Clip the value loss around the old values with the same ε (default true).
    pub clip_vloss: bool,
    /// Entropy coefficient (default 0.0 for continuous control).
    pub ent_coef: f64,
    /// Value-loss coefficient (default 0.5).
    pub vf_coef: f64,
    /// Mean and (unbiased) std to normalize the advantages with, instead of the
    /// minibatch's own (default `None`): a data-parallel run passes those of the union of
    /// its ranks' minibatches.
    pub adv_moments: Option<(f64, f64)>,
}

impl Default for LossConfig {
    fn default() -> Self {
        Self {
            clip_coef: 0.2,
            clip_vloss: true,
            ent_coef: 0.0,
            vf_coef: 0.5,
            adv_moments: None,
        }
    }
}

/// The losses of one minibatch; `total` carries the gradient.
#[derive(Debug)]
pub struct Losses {
    /// `pg_loss − ent_coef·entropy + vf_coef·v_loss`.
    pub total: Tensor,
    /// Clipped surrogate (`losses/policy_loss`).
    pub pg_loss: f64,
    /// Value loss (`losses/value_loss`).
    pub v_loss: f64,
    /// Mean entropy (`losses/entropy`).
    pub entropy: f64,
    /// −log ratio, averaged (`losses/old_approx_kl`, the k1 estimator CleanRL logs
    /// beside the better one).
    pub old_approx_kl: f64,
    /// (ratio − 1) − log ratio, averaged (`losses/approx_kl`, Schulman's k3 estimator).
    pub approx_kl: f64,
    /// Fraction of samples whose ratio left [1 − ε, 1 + ε] (`losses/clipfrac`).
    pub clipfrac: f64,
}

/// Compute the PPO losses. `advantages` are normalized here (per minibatch, as CleanRL's
/// `norm_adv`); all inputs are `[B]`.
#[allow(clippy::too_many_arguments)]
pub fn ppo_losses(
    new_logp: &Tensor,
    old_logp: &Tensor,
    advantages: &Tensor,
    new_values: &Tensor,
    old_values: &Tensor,
    returns: &Tensor,
    entropy: &Tensor,
    config: &LossConfig,
) -> Losses {
    let log_ratio = new_logp - old_logp;
    let ratio = log_ratio.exp();
    let (old_approx_kl, approx_kl, clipfrac) = tch::no_grad(|| {
        let old_kl = (-&log_ratio).mean(Kind::Float).double_value(&[]);
        let kl = ((&ratio - 1.0) - &log_ratio)
            .mean(Kind::Float)
            .double_value(&[]);
        let clipped = (&ratio - 1.0)
            .abs()
            .gt(config.clip_coef)
            .to_kind(Kind::Float)
            .mean(Kind::Float)
            .double_value(&[]);
        (old_kl, kl, clipped)
    });
    let adv = if let Some((mean, std)) = config.adv_moments {
        (advantages - mean) / (std + 1e-8)
    } else if advantages.numel() > 1 {
        (advantages - advantages.mean(Kind::Float)) / (advantages.std(true) + 1e-8)
    } else {
        advantages.shallow_clone()
    };
    let pg1 = -&adv * &ratio;
    let pg2 = -&adv * ratio.clamp(1.0 - config.clip_coef, 1.0 + config.clip_coef);
    let pg_loss = pg1.max_other(&pg2).mean(Kind::Float);
    let v_unclipped = (new_values - returns).square();
    let v_loss: Tensor = if config.clip_vloss {
        let v_clipped =
            old_values + (new_values - old_values).clamp(-config.clip_coef, config.clip_coef);
        0.5 * v_unclipped
            .max_other(&(v_clipped - returns).square())
            .mean(Kind::Float)
    } else {
        v_unclipped.mean(Kind::Float) * 0.5
    };
    let entropy_mean = entropy.mean(Kind::Float);
    let total = &pg_loss - config.ent_coef * &entropy_mean + config.vf_coef * &v_loss;
    Losses {
        pg_loss: pg_loss.double_value(&[]),
        v_loss: v_loss.double_value(&[]),
        entropy: entropy_mean.double_value(&[]),
        old_approx_kl,
        approx_kl,
        clipfrac,
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f32]) -> Tensor {
        Tensor::from_slice(v)
    }

    /// Two samples, ε = 0.2. Advantages [1, −1] normalize to [0.7071, −0.7071] (std with
    /// Bessel's correction = √2). Ratios e^0.5 = 1.6487 and e^−0.1 = 0.9048.
    /// Sample 0: −A·r = −1.1658, −A·clip(r) = −0.7071·1.2 = −0.8485 → max −0.8485.
    /// Sample 1: 0.7071·0.9048 = 0.6398, 0.7071·0.9048 = 0.6398 → 0.6398.
    /// pg_loss = (−0.8485 + 0.6398)/2 = −0.10436.
    /// Values: new [1.5, 0], old [1, 0], returns [2, 1]: unclipped (0.25, 1); clipped new
    /// value 1.2 → (0.64, 1); max → (0.64, 1); v_loss = 0.5·0.82 = 0.41.
    /// clipfrac = 1/2 (|1.6487 − 1| > 0.2). approx_kl = ((0.6487 − 0.5) + (−0.0952 + 0.1))/2.
    #[test]
    fn losses_match_hand_values() {
        let losses = ppo_losses(
            &t(&[0.5, -0.1]),
            &t(&[0.0, 0.0]),
            &t(&[1.0, -1.0]),
            &t(&[1.5, 0.0]),
            &t(&[1.0, 0.0]),
            &t(&[2.0, 1.0]),
            &t(&[1.0, 3.0]),
            &LossConfig {
                ent_coef: 0.01,
                ..LossConfig::default()
            },
        );
        let close = |a: f64, b: f64| (a - b).abs() < 1e-4;
        assert!(close(losses.pg_loss, -0.10436), "{}", losses.pg_loss);
        assert!(close(losses.v_loss, 0.41), "{}", losses.v_loss);
        assert!(close(losses.entropy, 2.0));
        assert!(close(losses.clipfrac, 0.5));
        let kl = ((0.5f64.exp() - 1.0 - 0.5) + ((-0.1f64).exp() - 1.0 + 0.1)) / 2.0;
        assert!(close(losses.approx_kl, kl), "{} vs {kl}", losses.approx_kl);
        assert!(close(losses.old_approx_kl, (-0.5 + 0.1) / 2.0));
        let total = -0.10436 - 0.01 * 2.0 + 0.5 * 0.41;
        assert!(close(losses.total.double_value(&[]), total));
    }
}
