//! Adam over one flat parameter buffer, with global gradient-norm clipping, written here
//! because tch's optimizer keeps its moments inside libtorch where they cannot be saved.
//!
//! At construction every trainable variable of a `VarStore` is re-pointed (`set_data`) at a
//! slice of one contiguous tensor, so the update is a handful of whole-buffer operations
//! (cheap per call, which matters at small minibatches) and the optimizer state is two
//! tensors plus a step count that a checkpoint can hold. The arithmetic is PyTorch's
//! `torch.optim.Adam` (non-AMSGrad) and `clip_grad_norm_` exactly.

use tch::{Kind, Tensor, nn};

/// Saved optimizer moments that do not fit the parameters (which, and how).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AdamStateError(pub String);

/// Adam's hyperparameters (PyTorch defaults except `eps`, which is CleanRL's 1e-5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// First-moment decay β1 (default 0.9).
    pub beta1: f64,
    /// Second-moment decay β2 (default 0.999).
    pub beta2: f64,
    /// Denominator term ε (default 1e-5, CleanRL's value; PyTorch's default is 1e-8).
    pub eps: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-5,
        }
    }
}

/// The saveable state of [`FlatAdam`]: moments laid out like the flat parameters.
#[derive(Debug)]
pub struct AdamState {
    /// First moments.
    pub exp_avg: Tensor,
    /// Second moments.
    pub exp_avg_sq: Tensor,
    /// Steps taken (for the bias corrections).
    pub step: u64,
}

/// Adam on the trainable variables of one `VarStore`, held in one flat buffer.
#[derive(Debug)]
pub struct FlatAdam {
    config: AdamConfig,
    /// Handles on the variables, sorted by name (their storage lives in `flat`).
    params: Vec<Tensor>,
    flat: Tensor,
    state: AdamState,
}

impl FlatAdam {
    /// Take over the trainable variables of `vs` (their current values are kept).
    pub fn new(vs: &nn::VarStore, config: AdamConfig) -> Self {
        let mut named: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let flat = tch::no_grad(|| {
            let pieces: Vec<Tensor> = named.iter().map(|(_, t)| t.detach().view(-1)).collect();
            Tensor::cat(&pieces, 0)
        });
        let mut offset = 0;
        let mut params = Vec::with_capacity(named.len());
        for (_, mut t) in named {
            let n = t.numel() as i64;
            let view = flat.narrow(0, offset, n).view(t.size().as_slice());
            tch::no_grad(|| t.set_data(&view));
            offset += n;
            params.push(t);
        }
        let state = AdamState {
            exp_avg: flat.zeros_like(),
            exp_avg_sq: flat.zeros_like(),
            step: 0,
        };
        Self {
            config,
            params,
            flat,
            state,
        }
    }

    /// Number of scalar parameters.
    pub fn numel(&self) -> i64 {
        self.flat.size()[0]
    }

    /// The parameters as one flat tensor (shares storage with the variables).
    pub fn flat_params(&self) -> &Tensor {
        &self.flat
    }

    /// Back-propagate `loss`, clip the global gradient norm to `max_grad_norm` (when
    /// given) and take one Adam step at learning rate `lr`.
    pub fn backward_step(&mut self, loss: &Tensor, lr: f64, max_grad_norm: Option<f64>) {
        self.backward_step_across(loss, lr, max_grad_norm, &crate::Single);
    }

    /// [`FlatAdam::backward_step`] for one rank of a data-parallel run: the flat gradient
    /// is averaged over the ranks (through host memory, also for CUDA tensors) before it
    /// is clipped and applied, so every rank takes the same step. Returns the seconds
    /// spent averaging (0 for one process).
    pub fn backward_step_across(
        &mut self,
        loss: &Tensor,
        lr: f64,
        max_grad_norm: Option<f64>,
        dist: &dyn crate::Collective,
    ) -> f64 {
        let grads = Tensor::run_backward(&[loss], &self.params, false, false);
        tch::no_grad(|| {
            let pieces: Vec<Tensor> = grads.iter().map(|g| g.view(-1)).collect();
            let mut g = Tensor::cat(&pieces, 0);
            let mut seconds = 0.0;
            if dist.size() > 1 {
                let start = std::time::Instant::now();
                g = average_over_ranks(&g, dist);
                seconds = start.elapsed().as_secs_f64();
            }
            if let Some(max) = max_grad_norm {
                // clip_grad_norm_: g *= min(1, max / (‖g‖ + 1e-6)), without a host sync.
                let coef = ((g.norm() + 1e-6).reciprocal() * max).clamp_max(1.0);
                let _ = g.g_mul_(&coef);
            }
            self.apply(&g, lr);
            seconds
        })
    }

    fn apply(&mut self, g: &Tensor, lr: f64) {
        let AdamConfig { beta1, beta2, eps } = self.config;
        let s = &mut self.state;
        s.step += 1;
        let _ = s.exp_avg.lerp_(g, 1.0 - beta1);
        let _ = s
            .exp_avg_sq
            .g_mul_scalar_(beta2)
            .addcmul_(&(g * (1.0 - beta2)), g);
        let bias1 = 1.0 - beta1.powf(s.step as f64);
        let bias2 = 1.0 - beta2.powf(s.step as f64);
        let denom = (s.exp_avg_sq.sqrt() / bias2.sqrt()) + eps;
        let _ = self.flat.addcdiv_(&(&s.exp_avg * (-lr / bias1)), &denom);
    }

    /// Make the parameters and optimizer state rank 0's on every rank of `dist` (in
    /// place: the variables keep sharing the flat buffer); nothing for one process.
    pub fn broadcast_from_root(&mut self, dist: &dyn crate::Collective) {
        if dist.size() == 1 {
            return;
        }
        tch::no_grad(|| {
            for t in [
                &mut self.flat,
                &mut self.state.exp_avg,
                &mut self.state.exp_avg_sq,
            ] {
                let mut host =
                    Vec::<f32>::try_from(&t.to_device(tch::Device::Cpu).to_kind(Kind::Float))
                        .expect("a flat float tensor converts");
                dist.broadcast_f32(&mut host);
                t.copy_(&Tensor::from_slice(&host).to_device(t.device()));
            }
        });
        let mut step = [self.state.step as f64];
        dist.broadcast_f64(&mut step);
        self.state.step = step[0] as u64;
    }

    /// The optimizer state (moments and step count).
    pub fn state(&self) -> &AdamState {
        &self.state
    }

    /// Replace the optimizer state, checking that the moments fit the parameters.
    pub fn set_state(&mut self, state: AdamState) -> Result<(), AdamStateError> {
        for (name, t) in [
            ("exp_avg", &state.exp_avg),
            ("exp_avg_sq", &state.exp_avg_sq),
        ] {
            if t.size() != self.flat.size() || t.kind() != Kind::Float {
                return Err(AdamStateError(format!(
                    "{name} has shape {:?} ({:?}), the parameters need [{}] (Float)",
                    t.size(),
                    t.kind(),
                    self.numel()
                )));
            }
        }
        let device = self.flat.device();
        self.state = AdamState {
            exp_avg: state.exp_avg.to_device(device),
            exp_avg_sq: state.exp_avg_sq.to_device(device),
            step: state.step,
        };
        Ok(())
    }
}

/// The mean over the ranks of a flat float tensor, on its device (staged through host
/// memory: MPI reduces host buffers).
fn average_over_ranks(g: &Tensor, dist: &dyn crate::Collective) -> Tensor {
    let mut host = Vec::<f32>::try_from(&g.to_device(tch::Device::Cpu).to_kind(Kind::Float))
        .expect("a flat float gradient converts");
    dist.sum_f32(&mut host);
    let n = dist.size() as f32;
    host.iter_mut().for_each(|v| *v /= n);
    Tensor::from_slice(&host).to_device(g.device())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::{Module, OptimizerConfig};
    use tch::{Device, Kind};

    fn net(vs: &nn::VarStore) -> nn::Sequential {
        let p = vs.root();
        nn::seq()
            .add(nn::linear(&p / "a", 5, 8, Default::default()))
            .add_fn(|x| x.tanh())
            .add(nn::linear(&p / "b", 8, 2, Default::default()))
    }

    fn loss(m: &nn::Sequential, x: &Tensor) -> Tensor {
        m.forward(x).square().mean(Kind::Float) * 50.0
    }

    /// Same steps, same clipping, same result as libtorch's own Adam.
    #[test]
    fn flat_adam_matches_libtorch_adam_with_clipping() {
        tch::manual_seed(7);
        let vs_ref = nn::VarStore::new(Device::Cpu);
        let m_ref = net(&vs_ref);
        let mut vs_ours = nn::VarStore::new(Device::Cpu);
        let m_ours = net(&vs_ours);
        vs_ours.copy(&vs_ref).unwrap();
        let mut opt_ref = nn::Adam {
            eps: 1e-5,
            ..Default::default()
        }
        .build(&vs_ref, 1e-2)
        .unwrap();
        let mut ours = FlatAdam::new(&vs_ours, AdamConfig::default());
        assert_eq!(ours.numel(), 5 * 8 + 8 + 8 * 2 + 2);
        for k in 0..6 {
            let x = Tensor::randn([16, 5], (Kind::Float, Device::Cpu));
            // The large loss makes the gradient norm exceed 0.5: clipping is exercised.
            opt_ref.backward_step_clip_norm(&loss(&m_ref, &x), 0.5);
            ours.backward_step(&loss(&m_ours, &x), 1e-2, Some(0.5));
            for (name, t) in vs_ref.variables() {
                let o = &vs_ours.variables()[&name];
                let diff = (&t - o).abs().max().double_value(&[]);
                assert!(diff < 1e-6, "step {k}: {name} differs by {diff}");
            }
        }
        assert_eq!(ours.state().step, 6);
    }

    #[test]
    fn the_variables_share_storage_with_the_flat_buffer() {
        let vs = nn::VarStore::new(Device::Cpu);
        let m = net(&vs);
        let x = Tensor::randn([3, 5], (Kind::Float, Device::Cpu));
        let before = m.forward(&x);
        let mut adam = FlatAdam::new(&vs, AdamConfig::default());
        // Taking over the variables keeps their values.
        assert!(
            (m.forward(&x) - &before)
                .abs()
                .max()
                .double_value(&[])
                .abs()
                < 1e-7
        );
        adam.backward_step(&loss(&m, &x), 1e-2, None);
        let sum: f64 = vs
            .variables()
            .values()
            .map(|t| t.sum(Kind::Double).double_value(&[]))
            .sum();
        let flat_sum = adam.flat_params().sum(Kind::Double).double_value(&[]);
        assert!((sum - flat_sum).abs() < 1e-6, "{sum} vs {flat_sum}");
        let bad = AdamState {
            exp_avg: Tensor::zeros([3], (Kind::Float, Device::Cpu)),
            exp_avg_sq: Tensor::zeros([3], (Kind::Float, Device::Cpu)),
            step: 1,
        };
        assert!(adam.set_state(bad).unwrap_err().0.contains("exp_avg"));
    }
}
