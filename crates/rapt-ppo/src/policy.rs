//! The actor-critic. With the MLP encoder it is CleanRL's `ppo_continuous_action.py`
//! layout: separate actor and critic MLPs on the observation, tanh activations,
//! orthogonal initialization with gain √2 on hidden layers, 0.01 on the policy output and
//! 1 on the value output, zero biases. With the CNN encoder (raster or pixel
//! observations, CaRL's setting) a shared convolutional trunk encodes the image part of
//! the observation, its features are concatenated with the vector part, and the actor and
//! critic MLPs work on that.
//!
//! Action heads: a diagonal Gaussian with a state-independent log standard deviation
//! (initialised to 0; actions clipped to the bounds by the caller), or CaRL's Beta
//! distribution on `[0, 1]` per dimension (α, β = softplus(·) + 1, mapped affinely onto
//! the bounds, so no clipping is needed), or a categorical distribution over the `n`
//! actions of a `Discrete` space (CleanRL's `ppo.py`: logits from the actor, the action
//! index stored as one slot).

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use crate::ObsLayout;

/// The distribution actions are drawn from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionHead {
    /// Chosen from the env's action space (as SB3 does): `Gaussian` for a bounded Box,
    /// `Categorical` for a Discrete space ([`crate::ActionSpace::of`] resolves it before a
    /// learner is built; a learner given `Auto` itself builds a Gaussian head).
    #[default]
    Auto,
    /// Diagonal Gaussian, state-independent log-std; samples are clipped to the bounds.
    Gaussian,
    /// Beta per dimension on `[0, 1]`, mapped onto `[low, high]` (CaRL).
    Beta,
    /// Categorical over the `n` actions of a `Discrete` space (logits from the actor).
    Categorical,
}

impl ActionHead {
    /// Actor outputs per action dimension (mean; or α and β).
    fn outputs_per_dim(self) -> i64 {
        match self {
            ActionHead::Auto | ActionHead::Gaussian | ActionHead::Categorical => 1,
            ActionHead::Beta => 2,
        }
    }

    /// Map policy actions (rows of `low.len()`) onto the env's bounds: Gaussian samples are
    /// clipped, Beta samples in `[0, 1]` are scaled to `[low, high]`, categorical indices
    /// are offset by the space's start (`low`).
    pub fn to_env(self, actions: &[f32], low: &[f32], high: &[f32], out: &mut [f32]) {
        let d = low.len();
        for (k, (o, a)) in out.iter_mut().zip(actions).enumerate() {
            let (lo, hi) = (low[k % d], high[k % d]);
            *o = match self {
                ActionHead::Auto | ActionHead::Gaussian => a.clamp(lo, hi),
                ActionHead::Beta => lo + a.clamp(0.0, 1.0) * (hi - lo),
                ActionHead::Categorical => (lo + a).clamp(lo, hi),
            };
        }
    }
}

/// How observations are encoded before the actor and critic MLPs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encoder {
    /// The flat observation goes straight into the MLPs (default).
    #[default]
    Mlp,
    /// A convolutional trunk over the image part of the observation (the env must have
    /// one: see [`ObsLayout`]): 3×3 convolutions with stride 2 and ReLU, one per entry
    /// of `channels`, then a linear layer to `features` (ReLU); the vector part is
    /// concatenated after it. Defaults: `channels: [32, 64, 64]`, `features: 256`.
    Cnn {
        /// Output channels of each convolution (each halves the resolution).
        #[serde(default = "default_channels")]
        channels: Vec<i64>,
        /// Width of the image feature vector.
        #[serde(default = "default_features")]
        features: i64,
    },
}

fn default_channels() -> Vec<i64> {
    vec![32, 64, 64]
}

fn default_features() -> i64 {
    256
}

/// The convolutional trunk of [`Encoder::Cnn`].
#[derive(Debug)]
struct CnnTrunk {
    net: nn::Sequential,
    image: [i64; 3],
    out: i64,
}

impl CnnTrunk {
    fn new(path: &nn::Path<'_>, image: [i64; 3], channels: &[i64], features: i64) -> Self {
        let gain = std::f64::consts::SQRT_2;
        let conv_config = nn::ConvConfig {
            stride: 2,
            padding: 1,
            bs_init: nn::Init::Const(0.0),
            ..Default::default()
        };
        let [mut c, mut h, mut w] = image;
        let mut net = nn::seq();
        for (k, &out) in channels.iter().enumerate() {
            let mut conv = nn::conv2d(path / format!("conv{k}"), c, out, 3, conv_config);
            // Orthogonal with gain √2 (CleanRL's Atari layers). tch's orthogonal init
            // returns the flattened 2-D matrix, so it is drawn flat and reshaped here.
            let flat = nn::init(nn::Init::Orthogonal { gain }, &[out, c * 9], path.device());
            tch::no_grad(|| conv.ws.copy_(&flat.view([out, c, 3, 3])));
            net = net.add(conv).add_fn(|x| x.relu());
            (c, h, w) = (out, (h + 1) / 2, (w + 1) / 2);
        }
        let net = net
            .add_fn(|x| x.flatten(1, -1))
            .add(layer(path / "fc", c * h * w, features, gain))
            .add_fn(|x| x.relu());
        Self {
            net,
            image,
            out: features,
        }
    }
}

/// An actor-critic for bounded continuous actions.
#[derive(Debug)]
pub struct ActorCritic {
    trunk: Option<CnnTrunk>,
    actor: nn::Sequential,
    critic: nn::Sequential,
    log_std: Option<Tensor>,
    head: ActionHead,
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
    /// Set the Gaussian head's log-std (every dimension) to `value`; nothing for other
    /// heads.
    pub fn set_log_std(&self, value: f64) {
        if let Some(log_std) = &self.log_std {
            tch::no_grad(|| {
                let _ = log_std.shallow_clone().fill_(value);
            });
        }
    }

    /// Networks under `path` for observations laid out as `layout` and `act_dim` actions,
    /// with the given hidden widths (CleanRL: `[64, 64]`; large batches: `[256, 256]`).
    ///
    /// # Panics
    /// If `encoder` is [`Encoder::Cnn`] and `layout` has no image.
    pub fn new(
        path: &nn::Path<'_>,
        layout: &ObsLayout,
        act_dim: i64,
        hidden: &[i64],
        head: ActionHead,
        encoder: &Encoder,
    ) -> Self {
        let head = match head {
            ActionHead::Auto => ActionHead::Gaussian,
            concrete => concrete,
        };
        let trunk = match encoder {
            Encoder::Mlp => None,
            Encoder::Cnn { channels, features } => {
                let image = layout
                    .image
                    .expect("the CNN encoder needs an image in the observation");
                let image = image.map(|d| d as i64);
                Some(CnnTrunk::new(&(path / "cnn"), image, channels, *features))
            }
        };
        let width = match &trunk {
            Some(t) => t.out + layout.vector_dim() as i64,
            None => layout.dim as i64,
        };
        let log_std = (head == ActionHead::Gaussian)
            .then(|| path.var("log_std", &[1, act_dim], nn::Init::Const(0.0)));
        Self {
            actor: mlp(
                &(path / "actor"),
                width,
                hidden,
                act_dim * head.outputs_per_dim(),
                0.01,
            ),
            critic: mlp(&(path / "critic"), width, hidden, 1, 1.0),
            trunk,
            log_std,
            head,
            act_dim,
        }
    }

    /// The input of the actor and critic MLPs: the observation, or the CNN features of
    /// its image followed by its vector part.
    pub fn features(&self, obs: &Tensor) -> Tensor {
        let Some(t) = &self.trunk else {
            return obs.shallow_clone();
        };
        let [c, h, w] = t.image;
        let pixels = c * h * w;
        let rest = obs.size()[1] - pixels;
        let image = obs.narrow(1, 0, pixels).view([-1, c, h, w]);
        let encoded = t.net.forward(&image);
        if rest == 0 {
            encoded
        } else {
            Tensor::cat(&[encoded, obs.narrow(1, pixels, rest)], 1)
        }
    }

    /// V from features, shape `[B]`.
    fn value_of(&self, features: &Tensor) -> Tensor {
        self.critic.forward(features).squeeze_dim(-1)
    }

    /// V(s), shape `[B]`.
    pub fn value(&self, obs: &Tensor) -> Tensor {
        self.value_of(&self.features(obs))
    }

    /// The deterministic action, shape `[B, A]`: the Gaussian mean, the Beta mean
    /// α/(α+β) in `[0, 1]`, or (`[B, 1]`) the most likely categorical action.
    pub fn mean(&self, obs: &Tensor) -> Tensor {
        let out = self.actor.forward(&self.features(obs));
        match self.head {
            ActionHead::Auto | ActionHead::Gaussian => out,
            ActionHead::Categorical => out.argmax(-1, true).to_kind(Kind::Float),
            ActionHead::Beta => {
                let (a, b) = self.beta_params(&out);
                &a / (&a + &b)
            }
        }
    }

    fn beta_params(&self, out: &Tensor) -> (Tensor, Tensor) {
        let ab = out.softplus() + 1.0;
        (
            ab.narrow(1, 0, self.act_dim),
            ab.narrow(1, self.act_dim, self.act_dim),
        )
    }

    fn gaussian(&self, out: &Tensor) -> (Tensor, Tensor) {
        let log_std = self
            .log_std
            .as_ref()
            .expect("a Gaussian head has a log-std")
            .expand_as(out);
        (out.shallow_clone(), log_std)
    }

    /// Log-probability of `actions`, entropy and value at `obs`, each `[B]` (one pass of
    /// the encoder for all three).
    pub fn evaluate(&self, obs: &Tensor, actions: &Tensor) -> (Tensor, Tensor, Tensor) {
        let f = self.features(obs);
        let out = self.actor.forward(&f);
        let (logp, entropy) = match self.head {
            ActionHead::Auto | ActionHead::Gaussian => {
                let (mean, log_std) = self.gaussian(&out);
                gaussian_log_prob_entropy(&mean, &log_std, actions)
            }
            ActionHead::Beta => {
                let (a, b) = self.beta_params(&out);
                beta_log_prob_entropy(&a, &b, actions)
            }
            ActionHead::Categorical => categorical_log_prob_entropy(&out, actions),
        };
        (logp, entropy, self.value_of(&f))
    }

    /// Log-probability of `actions` and entropy of the policy at `obs`, each `[B]`.
    pub fn log_prob_entropy(&self, obs: &Tensor, actions: &Tensor) -> (Tensor, Tensor) {
        let (logp, entropy, _) = self.evaluate(obs, actions);
        (logp, entropy)
    }

    /// Sample actions at `obs` with their log-probabilities and the values, each
    /// `[B, A]`, `[B]`, `[B]`.
    pub fn sample(&self, obs: &Tensor) -> (Tensor, Tensor, Tensor) {
        self.sample_part(obs, 0, 1)
    }

    /// [`ActorCritic::sample`] for rank `part` of `parts` in a data-parallel run: the
    /// random draws are those of a batch `parts` times as large of which `obs` is the
    /// `part`-th slice, so with the same torch seed on every rank the ranks draw
    /// independent noise, and the Gaussian head's noise is exactly what one process
    /// stepping all ranks' envs would draw.
    pub fn sample_part(&self, obs: &Tensor, part: usize, parts: usize) -> (Tensor, Tensor, Tensor) {
        let f = self.features(obs);
        let out = self.actor.forward(&f);
        let rows = out.size()[0];
        let (part, parts) = (part as i64, parts as i64);
        // Spread `x` to the whole batch (`parts` copies), sample, keep this rank's rows.
        let spread = |x: &Tensor| {
            if parts == 1 {
                x.shallow_clone()
            } else {
                x.repeat([parts, 1])
            }
        };
        let mine = |x: Tensor| {
            if parts == 1 {
                x
            } else {
                x.narrow(0, part * rows, rows)
            }
        };
        let (actions, logp) = match self.head {
            ActionHead::Auto | ActionHead::Gaussian => {
                let (mean, log_std) = self.gaussian(&out);
                let noise = mine(spread(&mean).randn_like());
                let actions = &mean + log_std.exp() * noise;
                let (logp, _) = gaussian_log_prob_entropy(&mean, &log_std, &actions);
                (actions, logp)
            }
            ActionHead::Beta => {
                let (a, b) = self.beta_params(&out);
                let ga = mine(spread(&a).internal_standard_gamma());
                let gb = mine(spread(&b).internal_standard_gamma());
                let actions = (&ga / (&ga + &gb)).clamp(BETA_EPS, 1.0 - BETA_EPS);
                let (logp, _) = beta_log_prob_entropy(&a, &b, &actions);
                (actions, logp)
            }
            ActionHead::Categorical => {
                let probs = spread(&out.softmax(-1, Kind::Float));
                let actions = mine(probs.multinomial(1, true)).to_kind(Kind::Float);
                let (logp, _) = categorical_log_prob_entropy(&out, &actions);
                (actions, logp)
            }
        };
        (actions, logp, self.value_of(&f))
    }

    /// Number of action dimensions.
    pub fn act_dim(&self) -> i64 {
        self.act_dim
    }

    /// The action head.
    pub fn head(&self) -> ActionHead {
        self.head
    }
}

/// Beta samples are kept this far inside `(0, 1)` so their log-density stays finite.
const BETA_EPS: f64 = 1e-6;

/// Diagonal Gaussian log-density of `x` and entropy, summed over the last dimension.
pub fn gaussian_log_prob_entropy(mean: &Tensor, log_std: &Tensor, x: &Tensor) -> (Tensor, Tensor) {
    let ln_2pi = (2.0 * std::f64::consts::PI).ln();
    let z = (x - mean) / log_std.exp();
    let logp = (z.square() * -0.5 - log_std - 0.5 * ln_2pi).sum_dim_intlist(-1, false, Kind::Float);
    let entropy = (log_std + 0.5 * (1.0 + ln_2pi)).sum_dim_intlist(-1, false, Kind::Float);
    (logp, entropy)
}

/// Log-probability of the action indices `actions` (`[B, 1]`, as floats) under the
/// categorical distribution with `logits` (`[B, n]`), and its entropy, each `[B]`.
pub fn categorical_log_prob_entropy(logits: &Tensor, actions: &Tensor) -> (Tensor, Tensor) {
    let log_p = logits.log_softmax(-1, Kind::Float);
    let index = actions.to_kind(Kind::Int64).view([-1, 1]);
    let logp = log_p.gather(1, &index, false).squeeze_dim(-1);
    let entropy = -(log_p.exp() * &log_p).sum_dim_intlist(-1, false, Kind::Float);
    (logp, entropy)
}

/// Beta(α, β) log-density of `x` ∈ (0, 1) and entropy, summed over the last dimension.
pub fn beta_log_prob_entropy(alpha: &Tensor, beta: &Tensor, x: &Tensor) -> (Tensor, Tensor) {
    let x = x.clamp(BETA_EPS, 1.0 - BETA_EPS);
    let sum = alpha + beta;
    let ln_b = alpha.lgamma() + beta.lgamma() - sum.lgamma();
    let logp = (alpha - 1.0) * x.log() + (beta - 1.0) * (-&x).log1p() - &ln_b;
    let entropy = &ln_b - (alpha - 1.0) * alpha.digamma() - (beta - 1.0) * beta.digamma()
        + (&sum - 2.0) * sum.digamma();
    (
        logp.sum_dim_intlist(-1, false, Kind::Float),
        entropy.sum_dim_intlist(-1, false, Kind::Float),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn cpu() -> (Kind, Device) {
        (Kind::Float, Device::Cpu)
    }

    #[test]
    fn gaussian_log_prob_matches_the_closed_form() {
        // N(0, 1) at 0 in 2-D: log p = −ln(2π); entropy = 1 + ln(2π).
        let zeros = Tensor::zeros([1, 2], cpu());
        let (logp, ent) = gaussian_log_prob_entropy(&zeros, &zeros, &zeros);
        let ln_2pi = (2.0 * std::f64::consts::PI).ln();
        assert!((logp.double_value(&[0]) + ln_2pi).abs() < 1e-5);
        assert!((ent.double_value(&[0]) - (1.0 + ln_2pi)).abs() < 1e-5);
        // σ = e, x − μ = e: z = 1 → log p = −0.5 − 1 − 0.5 ln 2π per dimension.
        let one = Tensor::ones([1, 1], cpu());
        let x = &one * std::f64::consts::E;
        let (logp, _) = gaussian_log_prob_entropy(&zeros.narrow(1, 0, 1), &one, &x);
        assert!((logp.double_value(&[0]) - (-1.5 - 0.5 * ln_2pi)).abs() < 1e-5);
    }

    #[test]
    fn beta_log_prob_and_entropy_match_the_closed_form() {
        // Beta(2, 3): B = 1/12, pdf(0.4) = 0.4 · 0.6² · 12 = 1.728; entropy
        // ln B − ψ(2) − 2ψ(3) + 3ψ(5) = −0.23489 (ψ(2) = 1 − γ, ψ(3) = 1.5 − γ,
        // ψ(5) = 25/12 − γ).
        let a = Tensor::from_slice(&[2.0f32]).view([1, 1]);
        let b = Tensor::from_slice(&[3.0f32]).view([1, 1]);
        let x = Tensor::from_slice(&[0.4f32]).view([1, 1]);
        let (logp, ent) = beta_log_prob_entropy(&a, &b, &x);
        assert!((logp.double_value(&[0]) - 1.728f64.ln()).abs() < 1e-5);
        let gamma = 0.577_215_664_9;
        let expected = (1.0f64 / 12.0).ln() - (1.0 - gamma) - 2.0 * (1.5 - gamma)
            + 3.0 * (25.0 / 12.0 - gamma);
        assert!((ent.double_value(&[0]) - expected).abs() < 1e-5, "{ent}");
    }

    #[test]
    fn the_mlp_networks_have_cleanrl_shapes_and_initial_outputs() {
        let vs = nn::VarStore::new(Device::Cpu);
        let layout = ObsLayout::vector(13);
        let ac = ActorCritic::new(
            &vs.root(),
            &layout,
            4,
            &[64, 64],
            ActionHead::Gaussian,
            &Encoder::Mlp,
        );
        let obs = Tensor::randn([5, 13], cpu());
        assert_eq!(ac.value(&obs).size(), [5]);
        let mean = ac.mean(&obs);
        assert_eq!(mean.size(), [5, 4]);
        // Output gain 0.01: the initial mean is near 0.
        assert!(mean.abs().max().double_value(&[]) < 0.1);
        let (a, logp, v) = ac.sample(&obs);
        let (logp2, ent) = ac.log_prob_entropy(&obs, &a);
        assert!((logp - logp2).abs().max().double_value(&[]) < 1e-5);
        assert_eq!((ent.size(), v.size()), (vec![5], vec![5]));
        // actor (3 layers × 2) + critic (3 × 2) + log_std.
        assert_eq!(vs.trainable_variables().len(), 13);
    }

    #[test]
    fn the_initial_log_std_sets_the_gaussian_entropy() {
        let vs = nn::VarStore::new(Device::Cpu);
        let layout = ObsLayout::vector(3);
        let ac = ActorCritic::new(
            &vs.root(),
            &layout,
            4,
            &[8],
            ActionHead::Gaussian,
            &Encoder::Mlp,
        );
        ac.set_log_std(-1.0);
        let obs = Tensor::randn([2, 3], cpu());
        let (a, _, _) = ac.sample(&obs);
        let (_, ent) = ac.log_prob_entropy(&obs, &a);
        // A diagonal Gaussian's entropy: Σ (½ ln(2πe) + log σ) over 4 dimensions.
        let want = 4.0 * (0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln() - 1.0);
        assert!((ent.double_value(&[0]) - want).abs() < 1e-4, "{ent}");
    }

    #[test]
    fn beta_samples_lie_in_the_unit_box_and_map_onto_the_bounds() {
        let vs = nn::VarStore::new(Device::Cpu);
        let ac = ActorCritic::new(
            &vs.root(),
            &ObsLayout::vector(3),
            2,
            &[16],
            ActionHead::Beta,
            &Encoder::Mlp,
        );
        let obs = Tensor::randn([2000, 3], cpu());
        let (a, logp, _) = ac.sample(&obs);
        assert!(a.min().double_value(&[]) > 0.0 && a.max().double_value(&[]) < 1.0);
        assert!(logp.isfinite().all().int64_value(&[]) == 1);
        // α ≈ β ≈ softplus(0) + 1 at initialization: the sample mean is near 1/2.
        assert!((a.mean(Kind::Float).double_value(&[]) - 0.5).abs() < 0.02);
        let mut out = [0.0; 4];
        ActionHead::Beta.to_env(&[0.0, 0.5, 1.0, 0.25], &[-1.0, 0.0], &[1.0, 4.0], &mut out);
        assert_eq!(out, [-1.0, 2.0, 1.0, 1.0]);
        ActionHead::Gaussian.to_env(&[-3.0, 0.5, 1.0, 9.0], &[-1.0, 0.0], &[1.0, 4.0], &mut out);
        assert_eq!(out, [-1.0, 0.5, 1.0, 4.0]);
    }

    #[test]
    fn categorical_log_prob_and_entropy_match_the_closed_form() {
        // logits ln[1, 3] → p = [0.25, 0.75]; entropy −(0.25 ln 0.25 + 0.75 ln 0.75).
        let logits = Tensor::from_slice(&[0.0f32, 3f32.ln(), 0.0, 3f32.ln()]).view([2, 2]);
        let actions = Tensor::from_slice(&[0.0f32, 1.0]).view([2, 1]);
        let (logp, ent) = categorical_log_prob_entropy(&logits, &actions);
        assert!((logp.double_value(&[0]) - 0.25f64.ln()).abs() < 1e-5);
        assert!((logp.double_value(&[1]) - 0.75f64.ln()).abs() < 1e-5);
        let h = -(0.25 * 0.25f64.ln() + 0.75 * 0.75f64.ln());
        assert!((ent.double_value(&[0]) - h).abs() < 1e-5);
        // Samples are valid indices whose log-probabilities agree with `evaluate`.
        let vs = nn::VarStore::new(Device::Cpu);
        let ac = ActorCritic::new(
            &vs.root(),
            &ObsLayout::vector(4),
            3,
            &[16],
            ActionHead::Categorical,
            &Encoder::Mlp,
        );
        let obs = Tensor::randn([500, 4], cpu());
        let (a, logp, _) = ac.sample(&obs);
        assert_eq!(a.size(), [500, 1]);
        assert!(a.min().double_value(&[]) >= 0.0 && a.max().double_value(&[]) <= 2.0);
        let (logp2, _) = ac.log_prob_entropy(&obs, &a);
        assert!((logp - logp2).abs().max().double_value(&[]) < 1e-5);
        assert_eq!(ac.mean(&obs).size(), [500, 1]);
        let mut out = [0.0; 3];
        ActionHead::Categorical.to_env(&[0.0, 1.0, 2.0], &[-1.0], &[1.0], &mut out);
        assert_eq!(out, [-1.0, 0.0, 1.0]);
    }

    #[test]
    fn the_cnn_encodes_the_image_and_passes_the_vector_through() {
        let vs = nn::VarStore::new(Device::Cpu);
        let layout = ObsLayout {
            dim: 2 * 16 * 16 + 5,
            image: Some([2, 16, 16]),
        };
        let encoder = Encoder::Cnn {
            channels: vec![8, 16],
            features: 32,
        };
        let ac = ActorCritic::new(&vs.root(), &layout, 3, &[32], ActionHead::Beta, &encoder);
        let obs = Tensor::rand([4, layout.dim as i64], cpu());
        // 32 image features followed by the 5 vector slots.
        let f = ac.features(&obs);
        assert_eq!(f.size(), [4, 37]);
        let tail = f.narrow(1, 32, 5) - obs.narrow(1, 512, 5);
        assert_eq!(tail.abs().max().double_value(&[]), 0.0);
        let (a, logp, v) = ac.sample(&obs);
        assert_eq!(
            (a.size(), logp.size(), v.size()),
            (vec![4, 3], vec![4], vec![4])
        );
        // Gradients reach the convolutions.
        let (logp, _, v) = ac.evaluate(&obs, &a);
        (logp.sum(Kind::Float) + v.sum(Kind::Float)).backward();
        let conv = &vs.variables()["cnn.conv0.weight"];
        assert!(conv.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0);
    }
}
