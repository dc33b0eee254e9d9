//! The actor-critic: separate MLPs for the policy mean and the value (CleanRL's
//! `ppo_continuous_action.py` layout), tanh activations, orthogonal initialization with
//! gain √2 on hidden layers, 0.01 on the policy output and 1 on the value output, zero
//! biases, and a state-independent log standard deviation initialised to 0.

use tch::nn::{self, Module};
use tch::{Kind, Tensor};

/// A Gaussian actor-critic for continuous actions.
#[derive(Debug)]
pub struct ActorCritic {
    actor: nn::Sequential,
    critic: nn::Sequential,
    log_std: Tensor,
    act_dim: i64,
}

fn layer(path: nn::Path<'_>, inp: i64, out: i64, gain: f64) -> nn::Linear {
    let config = nn::LinearConfig {
        ws_init: nn::Init::Orthogonal { gain },
        bs_init: Some(nn::Init::Const(0.0)),
        bias: true,
    };
    nn::linear(path, inp, out, config)
}

fn mlp(path: &nn::Path<'_>, inp: i64, hidden: &[i64], out: i64, out_gain: f64) -> nn::Sequential {
    let mut seq = nn::seq();
    let mut width = inp;
    for (k, &h) in hidden.iter().enumerate() {
        seq = seq
            .add(layer(
                path / format!("l{k}"),
                width,
                h,
                std::f64::consts::SQRT_2,
            ))
            .add_fn(|x| x.tanh());
        width = h;
    }
    seq.add(layer(path / "out", width, out, out_gain))
}

impl ActorCritic {
    /// Networks under `path` for `obs_dim` observations and `act_dim` actions, with the
    /// given hidden widths (CleanRL: `[64, 64]`; large batches: `[256, 256]`).
    pub fn new(path: &nn::Path<'_>, obs_dim: i64, act_dim: i64, hidden: &[i64]) -> Self {
        Self {
            actor: mlp(&(path / "actor"), obs_dim, hidden, act_dim, 0.01),
            critic: mlp(&(path / "critic"), obs_dim, hidden, 1, 1.0),
            log_std: path.var("log_std", &[1, act_dim], nn::Init::Const(0.0)),
            act_dim,
        }
    }

    /// V(s), shape `[B]`.
    pub fn value(&self, obs: &Tensor) -> Tensor {
        self.critic.forward(obs).squeeze_dim(-1)
    }

    /// The policy mean, shape `[B, A]` (the deterministic action).
    pub fn mean(&self, obs: &Tensor) -> Tensor {
        self.actor.forward(obs)
    }

    /// Log-probability of `actions` and entropy of the policy at `obs`, each `[B]`.
    pub fn log_prob_entropy(&self, obs: &Tensor, actions: &Tensor) -> (Tensor, Tensor) {
        let mean = self.mean(obs);
        let log_std = self.log_std.expand_as(&mean);
        let (logp, entropy) = gaussian_log_prob_entropy(&mean, &log_std, actions);
        (logp, entropy)
    }

    /// Sample actions at `obs` with their log-probabilities.
    pub fn sample(&self, obs: &Tensor) -> (Tensor, Tensor) {
        let mean = self.mean(obs);
        let log_std = self.log_std.expand_as(&mean);
        let actions = &mean + log_std.exp() * mean.randn_like();
        let (logp, _) = gaussian_log_prob_entropy(&mean, &log_std, &actions);
        (actions, logp)
    }

    /// Number of action dimensions.
    pub fn act_dim(&self) -> i64 {
        self.act_dim
    }
}

/// Diagonal Gaussian log-density of `x` and entropy, summed over the last dimension.
pub fn gaussian_log_prob_entropy(mean: &Tensor, log_std: &Tensor, x: &Tensor) -> (Tensor, Tensor) {
    let ln_2pi = (2.0 * std::f64::consts::PI).ln();
    let z = (x - mean) / log_std.exp();
    let logp = (z.square() * -0.5 - log_std - 0.5 * ln_2pi).sum_dim_intlist(-1, false, Kind::Float);
    let entropy = (log_std + 0.5 * (1.0 + ln_2pi)).sum_dim_intlist(-1, false, Kind::Float);
    (logp, entropy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn gaussian_log_prob_matches_the_closed_form() {
        // N(0, 1) at 0 in 2-D: log p = −ln(2π); entropy = 1 + ln(2π).
        let zeros = Tensor::zeros([1, 2], (Kind::Float, Device::Cpu));
        let (logp, ent) = gaussian_log_prob_entropy(&zeros, &zeros, &zeros);
        let ln_2pi = (2.0 * std::f64::consts::PI).ln();
        assert!((logp.double_value(&[0]) + ln_2pi).abs() < 1e-5);
        assert!((ent.double_value(&[0]) - (1.0 + ln_2pi)).abs() < 1e-5);
        // σ = e, x − μ = e: z = 1 → log p = −0.5 − 1 − 0.5 ln 2π per dimension.
        let one = Tensor::ones([1, 1], (Kind::Float, Device::Cpu));
        let x = &one * std::f64::consts::E;
        let (logp, _) = gaussian_log_prob_entropy(&zeros.narrow(1, 0, 1), &one, &x);
        assert!((logp.double_value(&[0]) - (-1.5 - 0.5 * ln_2pi)).abs() < 1e-5);
    }

    #[test]
    fn the_networks_have_cleanrl_shapes_and_initial_outputs() {
        let vs = nn::VarStore::new(Device::Cpu);
        let ac = ActorCritic::new(&vs.root(), 13, 4, &[64, 64]);
        let obs = Tensor::randn([5, 13], (Kind::Float, Device::Cpu));
        assert_eq!(ac.value(&obs).size(), [5]);
        let mean = ac.mean(&obs);
        assert_eq!(mean.size(), [5, 4]);
        // Output gain 0.01: the initial mean is near 0.
        assert!(mean.abs().max().double_value(&[]) < 0.1);
        let (a, logp) = ac.sample(&obs);
        let (logp2, ent) = ac.log_prob_entropy(&obs, &a);
        assert!((logp - logp2).abs().max().double_value(&[]) < 1e-5);
        assert_eq!(ent.size(), [5]);
        // actor (3 layers × 2) + critic (3 × 2) + log_std.
        assert_eq!(vs.trainable_variables().len(), 13);
    }
}
