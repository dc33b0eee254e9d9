//! Every PPO hyperparameter in one documented struct (CleanRL's `Args`).

use serde::{Deserialize, Serialize};

use crate::{ActionHead, Encoder};

/// PPO hyperparameters. Defaults are CleanRL's `ppo_continuous_action.py` except where
/// noted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PpoConfig {
    /// Adam learning rate (default 3e-4).
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to 0 over the run (default true).
    pub anneal_lr: bool,
    /// Steps per env per rollout (default 64; CleanRL: 2048 with 1 env).
    pub num_steps: usize,
    /// Minibatches per epoch (default 4; CleanRL: 32).
    pub num_minibatches: usize,
    /// Epochs over each rollout (default 10).
    pub update_epochs: usize,
    /// Discount γ (default 0.99).
    pub gamma: f32,
    /// GAE λ (default 0.95).
    pub gae_lambda: f32,
    /// Surrogate clipping ε (default 0.2).
    pub clip_coef: f64,
    /// Clip the value loss (default true).
    pub clip_vloss: bool,
    /// Entropy coefficient (default 0.0).
    pub ent_coef: f64,
    /// Value-loss coefficient (default 0.5).
    pub vf_coef: f64,
    /// Global gradient-norm clip (default 0.5).
    pub max_grad_norm: f64,
    /// Stop the epochs of an update early when approx-KL exceeds this (default: none).
    pub target_kl: Option<f64>,
    /// Normalize observations with running statistics (default true).
    pub norm_obs: bool,
    /// Clip normalized observations to ±this (default 10).
    pub obs_clip: f32,
    /// Scale rewards by the running std of the discounted return, Gymnasium's
    /// `NormalizeReward` (default false; CleanRL's continuous PPO turns it on).
    pub norm_reward: bool,
    /// Clip scaled rewards to ±this (default 10).
    pub reward_clip: f32,
    /// Hidden layer widths of the actor and the critic (default [64, 64]).
    pub hidden: Vec<i64>,
    /// Action distribution: `Auto` (default: `Gaussian` for a Box action space,
    /// `Categorical` for a Discrete one), `Gaussian`, `Beta` (CaRL) or `Categorical`.
    pub action_head: ActionHead,
    /// The Gaussian head's initial log-std, per action dimension (default 0.0: std 1 on
    /// actions in [−1, 1], CleanRL's; −5 to 1). Learned from there on. Not written when
    /// 0, so configs saved before it existed keep their text and digest.
    #[serde(skip_serializing_if = "is_zero")]
    pub log_std_init: f64,
    /// Observation encoder: `Mlp` (default) or `Cnn(..)` for observations with an image.
    pub encoder: Encoder,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

impl Default for PpoConfig {
    fn default() -> Self {
        Self {
            learning_rate: 3e-4,
            anneal_lr: true,
            num_steps: 64,
            num_minibatches: 4,
            update_epochs: 10,
            gamma: 0.99,
            gae_lambda: 0.95,
            clip_coef: 0.2,
            clip_vloss: true,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            target_kl: None,
            norm_obs: true,
            obs_clip: 10.0,
            norm_reward: false,
            reward_clip: 10.0,
            hidden: vec![64, 64],
            action_head: ActionHead::Auto,
            log_std_init: 0.0,
            encoder: Encoder::Mlp,
        }
    }
}

/// Upper bound on `num_steps` (steps per env per update), so that every batch size the
/// config implies fits memory checks rather than overflowing.
pub const MAX_NUM_STEPS: usize = 1 << 20;
/// Upper bound on `update_epochs`.
pub const MAX_UPDATE_EPOCHS: usize = 10_000;
/// Upper bound on a layer width (`hidden`, Cnn channels and features).
pub const MAX_WIDTH: i64 = 1 << 16;
/// Upper bound on the number of hidden layers (`hidden`) and of convolutions.
pub const MAX_LAYERS: usize = 16;
/// Upper bound on the loss coefficients and clips (`clip_coef`, `max_grad_norm`,
/// `ent_coef`, `vf_coef`, `target_kl`, `obs_clip`, `reward_clip`): they enter f32
/// arithmetic, where larger values overflow to infinity and train on silently.
pub const MAX_COEF: f64 = 1e6;

impl rapt_config::Validate for PpoConfig {
    fn validate(&self, v: &mut rapt_config::Validator) {
        let lr = self.learning_rate;
        v.check_value(
            "learning_rate",
            lr > 0.0 && lr < 1.0,
            lr,
            "must be in (0, 1)",
        );
        v.range("num_steps", self.num_steps, 1..=MAX_NUM_STEPS);
        v.check(
            "num_minibatches",
            self.num_minibatches > 0,
            "must be at least 1",
        );
        v.range("update_epochs", self.update_epochs, 1..=MAX_UPDATE_EPOCHS);
        for (name, x) in [("gamma", self.gamma), ("gae_lambda", self.gae_lambda)] {
            v.check_value(name, (0.0..=1.0).contains(&x), x, "must be in [0, 1]");
        }
        let positive = [
            ("clip_coef", Some(self.clip_coef)),
            ("max_grad_norm", Some(self.max_grad_norm)),
            ("target_kl", self.target_kl),
            ("obs_clip", Some(f64::from(self.obs_clip))),
            ("reward_clip", Some(f64::from(self.reward_clip))),
        ];
        for (name, x) in positive.into_iter().filter_map(|(n, x)| Some((n, x?))) {
            let ok = x > 0.0 && x <= MAX_COEF;
            v.check_value(name, ok, x, format!("must be > 0 and at most {MAX_COEF:e}"));
        }
        for (name, x) in [("ent_coef", self.ent_coef), ("vf_coef", self.vf_coef)] {
            let ok = (0.0..=MAX_COEF).contains(&x);
            v.check_value(name, ok, x, format!("must be ≥ 0 and at most {MAX_COEF:e}"));
        }
        v.check_value(
            "log_std_init",
            (-5.0..=1.0).contains(&self.log_std_init),
            self.log_std_init,
            "must be in [-5, 1]",
        );
        let layers = self.hidden.len();
        let hidden = if !(1..=MAX_LAYERS).contains(&layers) {
            Some(format!("{layers} layers: give 1 to {MAX_LAYERS}"))
        } else if !self.hidden.iter().all(|h| (1..=MAX_WIDTH).contains(h)) {
            Some(format!(
                "{:?}: every width must be 1 to {MAX_WIDTH}",
                self.hidden
            ))
        } else {
            None
        };
        if let Some(message) = hidden {
            v.problem("hidden", message);
        }
        if let Encoder::Cnn { channels, features } = &self.encoder {
            let size = 1..=MAX_WIDTH;
            v.check(
                "encoder",
                (1..=MAX_LAYERS).contains(&channels.len())
                    && channels.iter().all(|c| size.contains(c))
                    && size.contains(features),
                format!(
                    "Cnn(channels: {channels:?}, features: {features}) needs at least one \
                     convolution and sizes from 1 to {MAX_WIDTH}"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_log_std_init_is_not_written_so_older_digests_hold() {
        let text = rapt_config::to_ron(&PpoConfig::default()).unwrap();
        assert!(!text.contains("log_std_init"), "{text}");
        let set = PpoConfig {
            log_std_init: -0.5,
            ..PpoConfig::default()
        };
        let text = rapt_config::to_ron(&set).unwrap();
        assert!(text.contains("log_std_init: -0.5"), "{text}");
        let back: PpoConfig = ron::from_str(&text).unwrap();
        assert_eq!(back, set);
    }
}
