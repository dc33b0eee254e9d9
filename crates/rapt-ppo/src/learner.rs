//! The PPO learner: acts on batches of observations and updates from rollouts.

use tch::nn;
use tch::{Device, Kind, Tensor};

use crate::adam::{AdamConfig, FlatAdam};
use crate::dist::{Collective, Dist, mean_over_ranks};
use crate::storage::ObsStorage;
use crate::{
    ActionHead, ActorCritic, Encoder, LossConfig, ObsLayout, PpoConfig, RewardScaler,
    RolloutBuffer, RunningMeanStd, ppo_losses,
};

/// Diagnostics of one update, under CleanRL's metric names.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UpdateStats {
    /// `charts/learning_rate`.
    pub learning_rate: f64,
    /// `losses/value_loss`.
    pub value_loss: f64,
    /// `losses/policy_loss`.
    pub policy_loss: f64,
    /// `losses/entropy`.
    pub entropy: f64,
    /// `losses/old_approx_kl`: mean of −log ratio, last minibatch (CleanRL).
    pub old_approx_kl: f64,
    /// `losses/approx_kl`: mean of (ratio − 1) − log ratio, last minibatch (CleanRL).
    pub approx_kl: f64,
    /// `losses/clipfrac`: fraction of clipped ratios, averaged over every minibatch of
    /// the update (CleanRL's `np.mean(clipfracs)`).
    pub clipfrac: f64,
    /// `losses/explained_variance`.
    pub explained_variance: f64,
    /// Epochs run (fewer than configured after a target-KL stop).
    pub epochs: usize,
    /// Seconds spent averaging gradients over the ranks of a data-parallel run (0 for one
    /// process).
    pub allreduce_seconds: f64,
}

/// Why a learner cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LearnerError {
    /// The observation layout does not fit the config.
    #[error("observation layout: {0}")]
    Layout(String),
    /// libtorch failed.
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// Actor-critic, optimizer and observation statistics.
#[derive(Debug)]
pub struct Learner {
    vs: nn::VarStore,
    ac: ActorCritic,
    opt: FlatAdam,
    obs_rms: RunningMeanStd,
    reward_scaler: RewardScaler,
    config: PpoConfig,
    device: Device,
    layout: ObsLayout,
    /// Observation slots the running statistics cover: all, or (CNN) the vector part.
    norm_from: usize,
    act_dim: usize,
    /// The ranks this learner trains with ([`crate::Single`] unless set).
    dist: Dist,
    /// The rollout's observations on the device (see [`Learner::store_obs`]).
    storage: ObsStorage,
    /// An update has read the stored rows: the next [`Learner::store_obs`] starts a new
    /// rollout.
    storage_read: bool,
}

fn to_vec(t: &Tensor) -> Vec<f32> {
    let t = t
        .to_device(Device::Cpu)
        .to_kind(Kind::Float)
        .contiguous()
        .view(-1);
    Vec::<f32>::try_from(&t).expect("a float tensor converts")
}

impl Learner {
    /// A fresh learner for observations laid out as `layout` (torch seeded with `seed`).
    pub fn new(
        layout: ObsLayout,
        act_dim: usize,
        config: PpoConfig,
        device: Device,
        seed: u64,
    ) -> Result<Self, LearnerError> {
        if let Some(problem) = layout.problem() {
            return Err(LearnerError::Layout(problem));
        }
        let is_cnn = matches!(config.encoder, Encoder::Cnn { .. });
        if is_cnn && layout.image.is_none() {
            return Err(LearnerError::Layout(
                "encoder: Cnn needs an image in the observation (a Box of shape \
                 [C, H, W], alone or first in a Dict); this env's observation is a vector"
                    .into(),
            ));
        }
        let norm_from = if is_cnn { layout.image_len() } else { 0 };
        tch::manual_seed(seed as i64);
        let vs = nn::VarStore::new(device);
        let ac = ActorCritic::new(
            &vs.root(),
            &layout,
            act_dim as i64,
            &config.hidden,
            config.action_head,
            &config.encoder,
        );
        ac.set_log_std(config.log_std_init);
        // CleanRL: Adam eps 1e-5.
        let opt = FlatAdam::new(&vs, AdamConfig::default());
        Ok(Self {
            vs,
            ac,
            opt,
            obs_rms: RunningMeanStd::new(layout.dim - norm_from),
            reward_scaler: RewardScaler::new(f64::from(config.gamma), config.reward_clip),
            config,
            device,
            layout,
            norm_from,
            act_dim,
            dist: crate::dist::single(),
            storage: ObsStorage::new(layout, device),
            storage_read: false,
        })
    }

    /// Train as one rank of the data-parallel run `dist`: from now on gradients are
    /// averaged over its ranks every minibatch, observation and return statistics merged
    /// every step, advantages normalized over all ranks' minibatches; and first every
    /// rank takes rank 0's parameters, optimizer state and statistics (so a fresh or
    /// resumed learner on rank 0 is every rank's). Every rank must call this, with the
    /// same config and environment spaces.
    pub fn set_collective(&mut self, dist: Dist) {
        self.opt.broadcast_from_root(dist.as_ref());
        let obs = broadcast_stats(&self.obs_rms, dist.as_ref());
        self.obs_rms = obs;
        let ret = broadcast_stats(self.reward_scaler.stats(), dist.as_ref());
        self.reward_scaler.set_stats(ret);
        self.dist = dist;
    }

    /// The ranks this learner trains with.
    pub fn collective(&self) -> &Dist {
        &self.dist
    }

    /// The hyperparameters.
    pub fn config(&self) -> &PpoConfig {
        &self.config
    }

    /// Normalize `obs` (rows of the observation layout) in place with the running
    /// statistics, first folding them in when `update` (training), not when evaluating.
    /// With the CNN encoder only the vector part is normalized; images go in as they are.
    pub fn normalize(&mut self, obs: &mut [f32], update: bool) {
        if !self.config.norm_obs {
            return;
        }
        let (dim, from) = (self.layout.dim, self.norm_from);
        if update && from < dim {
            if from == 0 {
                self.obs_rms.update_across(obs, self.dist.as_ref());
            } else {
                let tails: Vec<f32> = obs
                    .chunks_exact(dim)
                    .flat_map(|row| row[from..].iter().copied())
                    .collect();
                self.obs_rms.update_across(&tails, self.dist.as_ref());
            }
        }
        self.normalize_frozen(obs);
    }

    /// Normalize `obs` in place with the current statistics, leaving them unchanged.
    pub fn normalize_frozen(&self, obs: &mut [f32]) {
        if !self.config.norm_obs {
            return;
        }
        let clip = self.config.obs_clip;
        let (dim, from) = (self.layout.dim, self.norm_from);
        if from == 0 {
            self.obs_rms.normalize(obs, clip);
            return;
        }
        if from == dim {
            return;
        }
        for row in obs.chunks_exact_mut(dim) {
            self.obs_rms.normalize(&mut row[from..], clip);
        }
    }

    /// Map policy actions onto the env's action bounds (clip for the Gaussian head,
    /// scale for the Beta head, offset by the space's start for the categorical head).
    pub fn env_actions(&self, actions: &[f32], low: &[f32], high: &[f32], out: &mut [f32]) {
        self.config.action_head.to_env(actions, low, high, out);
    }

    /// Env actions for raw observations `obs` (rows of the layout, normalized in place
    /// with the frozen statistics): the policy's mean, or a sample when `stochastic`,
    /// mapped onto `space`. The one mapping from policy outputs to env actions that
    /// evaluation and single episodes ([`crate::Actor::Policy`]) share.
    pub fn policy_env_actions(
        &self,
        obs: &mut [f32],
        space: &crate::ActionSpace,
        stochastic: bool,
        out: &mut [f32],
    ) {
        self.normalize_frozen(obs);
        let actions = if stochastic {
            self.act(obs).0
        } else {
            self.act_deterministic(obs)
        };
        self.env_actions(&actions, &space.low, &space.high, out);
    }

    /// The action head.
    pub fn action_head(&self) -> ActionHead {
        self.config.action_head
    }

    /// Scale one step of rewards in place when `norm_reward` is on (the episode
    /// statistics keep the raw rewards); `ended` marks episodes that ended at this step.
    pub fn scale_rewards(&mut self, rewards: &mut [f32], ended: &[bool]) {
        if self.config.norm_reward {
            self.reward_scaler
                .scale_across(rewards, ended, self.dist.as_ref());
        }
    }

    /// The reward scaler (its statistics go into checkpoints).
    pub fn reward_scaler(&self) -> &RewardScaler {
        &self.reward_scaler
    }

    pub(crate) fn reward_scaler_mut(&mut self) -> &mut RewardScaler {
        &mut self.reward_scaler
    }

    fn tensor(&self, data: &[f32], cols: usize) -> Tensor {
        Tensor::from_slice(data)
            .view([(data.len() / cols) as i64, cols as i64])
            .to_device(self.device)
    }

    /// Sample actions for normalized `obs`: (actions, log-probabilities, values).
    pub fn act(&self, obs: &[f32]) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        tch::no_grad(|| {
            let o = self.tensor(obs, self.layout.dim);
            let (a, logp, v) = self.ac.sample_part(&o, self.dist.rank(), self.dist.size());
            (to_vec(&a), to_vec(&logp), to_vec(&v))
        })
    }

    /// The deterministic action (the policy mean) for normalized `obs`.
    pub fn act_deterministic(&self, obs: &[f32]) -> Vec<f32> {
        tch::no_grad(|| to_vec(&self.ac.mean(&self.tensor(obs, self.layout.dim))))
    }

    /// V for normalized `obs`.
    pub fn values(&self, obs: &[f32]) -> Vec<f32> {
        tch::no_grad(|| to_vec(&self.ac.value(&self.tensor(obs, self.layout.dim))))
    }

    /// Keep one step's normalized observations (`N` rows, as [`Learner::act`] saw them)
    /// for the next update, in storage on the learner's device that is allocated once
    /// (`num_steps × N` rows) and reused by every rollout; images that are `k / 255`
    /// values are kept as bytes (see `ObsStorage`). The first call after an update starts
    /// a new rollout. Trainers call this each step and leave [`StepRecord::obs`] empty.
    ///
    /// [`StepRecord::obs`]: crate::StepRecord::obs
    pub fn store_obs(&mut self, obs: &[f32]) {
        if self.storage_read {
            self.storage.clear();
            self.storage_read = false;
        }
        if self.storage.capacity() == 0 {
            let rows = obs.len() / self.layout.dim.max(1);
            self.storage.reserve(rows * self.config.num_steps);
        }
        self.storage.push(obs);
    }

    /// Observation rows kept for the next update by [`Learner::store_obs`].
    pub fn stored_rows(&self) -> usize {
        self.storage.rows()
    }

    /// How the rollout storage keeps images.
    pub fn image_storage(&self) -> crate::ImageStorage {
        self.storage.image_storage()
    }

    /// One PPO update from a finished rollout (its advantages computed); `progress` ∈
    /// [0, 1] is the fraction of training done (for learning-rate annealing). The
    /// observations are `rollout.obs` when it holds them, otherwise the rows kept with
    /// [`Learner::store_obs`] since the last update, one per transition.
    ///
    /// # Panics
    /// If the rollout is not finished, or its observations are neither in `rollout.obs`
    /// nor stored, one per transition.
    pub fn update(&mut self, rollout: &RolloutBuffer, progress: f64) -> UpdateStats {
        let c = &self.config;
        let lr = if c.anneal_lr {
            c.learning_rate * (1.0 - progress).max(0.0)
        } else {
            c.learning_rate
        };
        let len = rollout.rewards.len();
        assert_eq!(
            rollout.advantages.len(),
            len,
            "update needs a finished rollout (RolloutBuffer::finish)"
        );
        if !rollout.obs.is_empty() {
            assert_eq!(
                rollout.obs.len(),
                len * self.layout.dim,
                "rollout.obs holds {} values, {len} observations of {} need {}",
                rollout.obs.len(),
                self.layout.dim,
                len * self.layout.dim
            );
            self.storage.clear();
            self.storage.push(&rollout.obs);
        }
        assert_eq!(
            self.storage.rows(),
            len,
            "the rollout has {len} transitions but {} observations were stored \
             (Learner::store_obs once per step, or fill rollout.obs)",
            self.storage.rows()
        );
        self.storage_read = true;
        let actions = self.tensor(&rollout.actions, self.action_slots());
        let logp = Tensor::from_slice(&rollout.logp).to_device(self.device);
        let values = Tensor::from_slice(&rollout.values).to_device(self.device);
        let advantages = Tensor::from_slice(&rollout.advantages).to_device(self.device);
        let returns = Tensor::from_slice(&rollout.returns).to_device(self.device);
        let mut loss_config = LossConfig {
            clip_coef: c.clip_coef,
            clip_vloss: c.clip_vloss,
            ent_coef: c.ent_coef,
            vf_coef: c.vf_coef,
            adv_moments: None,
        };
        let dist = self.dist.as_ref();
        let batch = len as i64;
        let minibatch = (batch / c.num_minibatches as i64).max(1);
        let mut stats = UpdateStats {
            learning_rate: lr,
            ..UpdateStats::default()
        };
        let (mut clipfrac_sum, mut minibatches) = (0.0f64, 0usize);
        'epochs: for _ in 0..c.update_epochs {
            stats.epochs += 1;
            let perm = Tensor::randperm(batch, (Kind::Int64, self.device));
            let mut start = 0;
            while start < batch {
                let idx = perm.narrow(0, start, minibatch.min(batch - start));
                start += minibatch;
                let mb_obs = self.storage.gather(&idx);
                let mb_adv = advantages.index_select(0, &idx);
                if dist.size() > 1 {
                    loss_config.adv_moments = Some(moments_over_ranks(&mb_adv, dist));
                }
                let (new_logp, entropy, new_values) =
                    self.ac.evaluate(&mb_obs, &actions.index_select(0, &idx));
                let losses = ppo_losses(
                    &new_logp,
                    &logp.index_select(0, &idx),
                    &mb_adv,
                    &new_values,
                    &values.index_select(0, &idx),
                    &returns.index_select(0, &idx),
                    &entropy,
                    &loss_config,
                );
                stats.allreduce_seconds +=
                    self.opt
                        .backward_step_across(&losses.total, lr, Some(c.max_grad_norm), dist);
                stats.value_loss = losses.v_loss;
                stats.policy_loss = losses.pg_loss;
                stats.entropy = losses.entropy;
                stats.old_approx_kl = losses.old_approx_kl;
                stats.approx_kl = losses.approx_kl;
                clipfrac_sum += losses.clipfrac;
                minibatches += 1;
            }
            // Every rank must run as many epochs: they stop on the ranks' mean KL.
            let mut kl = [stats.approx_kl];
            if c.target_kl.is_some() {
                mean_over_ranks(dist, &mut kl);
            }
            if let Some(target) = c.target_kl
                && kl[0] > target
            {
                break 'epochs;
            }
        }
        stats.clipfrac = clipfrac_sum / minibatches.max(1) as f64;
        stats.explained_variance = explained_variance(&rollout.values, &rollout.returns);
        if dist.size() > 1 {
            // The logged diagnostics are the ranks' means.
            let fields = [
                &mut stats.value_loss,
                &mut stats.policy_loss,
                &mut stats.entropy,
                &mut stats.old_approx_kl,
                &mut stats.approx_kl,
                &mut stats.clipfrac,
                &mut stats.explained_variance,
            ];
            let mut means: Vec<f64> = fields.iter().map(|f| **f).collect();
            mean_over_ranks(dist, &mut means);
            for (f, m) in fields.into_iter().zip(means) {
                *f = m;
            }
        }
        stats
    }

    /// The variables (for checkpoints).
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    pub(crate) fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }

    /// The optimizer (its state goes into checkpoints).
    pub fn optimizer(&self) -> &FlatAdam {
        &self.opt
    }

    pub(crate) fn optimizer_mut(&mut self) -> &mut FlatAdam {
        &mut self.opt
    }

    /// The running observation statistics.
    pub fn obs_stats(&self) -> &RunningMeanStd {
        &self.obs_rms
    }

    pub(crate) fn set_obs_stats(&mut self, stats: RunningMeanStd) {
        self.obs_rms = stats;
    }

    /// Observation slots.
    pub fn obs_dim(&self) -> usize {
        self.layout.dim
    }

    /// The observation layout.
    pub fn layout(&self) -> ObsLayout {
        self.layout
    }

    /// Policy outputs per action: the action dimension, or the number of discrete
    /// actions for the categorical head.
    pub fn act_dim(&self) -> usize {
        self.act_dim
    }

    /// Slots one stored action takes: the action dimension, or 1 (the index) for the
    /// categorical head.
    pub fn action_slots(&self) -> usize {
        match self.config.action_head {
            ActionHead::Categorical => 1,
            ActionHead::Auto | ActionHead::Gaussian | ActionHead::Beta => self.act_dim,
        }
    }
}

/// Rank 0's statistics on every rank (one broadcast).
fn broadcast_stats(stats: &RunningMeanStd, dist: &dyn Collective) -> RunningMeanStd {
    if dist.size() == 1 {
        return stats.clone();
    }
    let d = stats.dim();
    let mut flat: Vec<f64> = std::iter::once(stats.count)
        .chain(stats.mean.iter().copied())
        .chain(stats.var.iter().copied())
        .collect();
    dist.broadcast_f64(&mut flat);
    RunningMeanStd {
        count: flat[0],
        mean: flat[1..=d].to_vec(),
        var: flat[1 + d..].to_vec(),
    }
}

/// Mean and unbiased std of the union of every rank's `x` (one collective of 3 sums),
/// as `Tensor::std(true)` of the concatenation would give.
fn moments_over_ranks(x: &Tensor, dist: &dyn Collective) -> (f64, f64) {
    let x = x.to_kind(Kind::Double);
    let mut sums = [
        x.numel() as f64,
        x.sum(Kind::Double).double_value(&[]),
        x.square().sum(Kind::Double).double_value(&[]),
    ];
    dist.sum_f64(&mut sums);
    let [n, s, ss] = sums;
    let mean = s / n.max(1.0);
    let var = ((ss - n * mean * mean) / (n - 1.0).max(1.0)).max(0.0);
    (mean, var.sqrt())
}

/// 1 − Var(returns − values) / Var(returns): how much of the return the critic explains.
pub fn explained_variance(values: &[f32], returns: &[f32]) -> f64 {
    let n = returns.len() as f64;
    let mean = |x: &mut dyn Iterator<Item = f64>| x.sum::<f64>() / n;
    let var = |x: &dyn Fn(usize) -> f64| {
        let m = mean(&mut (0..returns.len()).map(x));
        (0..returns.len()).map(|k| (x(k) - m).powi(2)).sum::<f64>() / n
    };
    let var_y = var(&|k| f64::from(returns[k]));
    if var_y == 0.0 {
        return f64::NAN;
    }
    1.0 - var(&|k| f64::from(returns[k] - values[k])) / var_y
}
