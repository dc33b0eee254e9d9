//! The multi-view progress network: one CNN shared by every view, fused across views,
//! predicting the stage (classification over `stages + 1` classes, the last one "done")
//! and the progress within each stage (regression, sigmoid), combined into Φ.

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor, nn, nn::Module};

/// How per-view features are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Fusion {
    /// Mean over the views present (default).
    #[default]
    Mean,
    /// Softmax attention over the views present (a learned score per view feature).
    Attention,
}

/// The network's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetConfig {
    /// Output channels of the 3×3 stride-2 convolutions (default `[16, 32, 32]`).
    pub channels: Vec<i64>,
    /// Per-view feature size after the convolutions (default 128).
    pub features: i64,
    /// Hidden units of the heads after fusion (default 128).
    pub hidden: i64,
    /// View fusion (default `Mean`).
    pub fusion: Fusion,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            channels: vec![16, 32, 32],
            features: 128,
            hidden: 128,
            fusion: Fusion::Mean,
        }
    }
}

/// What the network is for: frame size, views, stages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetShape {
    /// Views in input order.
    pub views: Vec<String>,
    /// Frame width and height, px.
    pub size: usize,
    /// Number of task stages (the classifier has one more class: done).
    pub stages: usize,
}

/// The network's outputs for a batch.
#[derive(Debug)]
pub struct NetOutput {
    /// `[B, stages + 1]` stage logits.
    pub stage_logits: Tensor,
    /// `[B, stages]` progress within each stage, in (0, 1).
    pub stage_progress: Tensor,
}

impl NetOutput {
    /// Φ per frame set, `[B]`: the expectation of (stage + progress in it) / stages under
    /// the predicted stage distribution (the done class counts as `stages`). Soft, so Φ
    /// moves smoothly across a stage boundary.
    pub fn phi(&self, stages: usize) -> Tensor {
        let p = self.stage_logits.softmax(-1, Kind::Float);
        let n = stages as i64;
        let base = Tensor::arange(n + 1, (Kind::Float, p.device()));
        let within = Tensor::cat(
            &[
                &self.stage_progress,
                &Tensor::zeros([p.size()[0], 1], (Kind::Float, p.device())),
            ],
            1,
        );
        ((p * (base.unsqueeze(0) + within)).sum_dim_intlist(1, false, Kind::Float) / n as f64)
            .clamp(0.0, 1.0)
    }
}

/// The progress network.
#[derive(Debug)]
pub struct ProgressNet {
    convs: Vec<nn::Conv2D>,
    project: nn::Linear,
    attention: Option<nn::Linear>,
    hidden: nn::Linear,
    stage_head: nn::Linear,
    progress_head: nn::Linear,
    shape: NetShape,
}

impl ProgressNet {
    /// A freshly initialised network under `p`.
    pub fn new(p: &nn::Path, cfg: &NetConfig, shape: NetShape) -> Self {
        let mut convs = Vec::new();
        let mut c_in = 3;
        let mut side = shape.size as i64;
        for (i, &c) in cfg.channels.iter().enumerate() {
            let conv = nn::conv2d(
                p / format!("conv{i}"),
                c_in,
                c,
                3,
                nn::ConvConfig {
                    stride: 2,
                    padding: 1,
                    ..Default::default()
                },
            );
            convs.push(conv);
            c_in = c;
            side = (side + 1) / 2;
        }
        let flat = c_in * side * side;
        let project = nn::linear(p / "project", flat, cfg.features, Default::default());
        let attention = (cfg.fusion == Fusion::Attention)
            .then(|| nn::linear(p / "attention", cfg.features, 1, Default::default()));
        let hidden = nn::linear(p / "hidden", cfg.features, cfg.hidden, Default::default());
        let n = shape.stages as i64;
        let stage_head = nn::linear(p / "stage", cfg.hidden, n + 1, Default::default());
        let progress_head = nn::linear(p / "progress", cfg.hidden, n, Default::default());
        Self {
            convs,
            project,
            attention,
            hidden,
            stage_head,
            progress_head,
            shape,
        }
    }

    /// What the network was built for.
    pub fn shape(&self) -> &NetShape {
        &self.shape
    }

    /// Forward `frames` (`[B, V, S, S, 3]` u8 on the net's device) with `view_mask`
    /// (`[B, V]` float, 1 where a view is present; `None` = all present).
    pub fn forward(&self, frames: &Tensor, view_mask: Option<&Tensor>) -> NetOutput {
        let dims = frames.size();
        let (b, v, s) = (dims[0], dims[1], dims[2]);
        let mut x = frames
            .reshape([b * v, s, s, 3])
            .permute([0, 3, 1, 2])
            .contiguous()
            .to_kind(Kind::Float)
            / 255.0;
        for conv in &self.convs {
            x = conv.forward(&x).relu();
        }
        let f = self
            .project
            .forward(&x.reshape([b * v, -1]))
            .relu()
            .reshape([b, v, -1]);
        let mask = match view_mask {
            Some(m) => m.shallow_clone(),
            None => Tensor::ones([b, v], (Kind::Float, f.device())),
        };
        let fused = match &self.attention {
            None => {
                let w = mask.unsqueeze(-1);
                (&f * &w).sum_dim_intlist(1, false, Kind::Float)
                    / w.sum_dim_intlist(1, false, Kind::Float).clamp_min(1.0)
            }
            Some(att) => {
                let scores = att.forward(&f).squeeze_dim(-1);
                let scores = scores.masked_fill(&mask.eq(0.0), -1e9);
                let w = scores.softmax(1, Kind::Float).unsqueeze(-1);
                (&f * w).sum_dim_intlist(1, false, Kind::Float)
            }
        };
        let h = self.hidden.forward(&fused).relu();
        NetOutput {
            stage_logits: self.stage_head.forward(&h),
            stage_progress: self.progress_head.forward(&h).sigmoid(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn phi_is_soft_stage_plus_progress_and_a_missing_view_still_scores() {
        let vs = nn::VarStore::new(Device::Cpu);
        let shape = NetShape {
            views: vec!["front".into(), "side".into()],
            size: 16,
            stages: 2,
        };
        for fusion in [Fusion::Mean, Fusion::Attention] {
            let cfg = NetConfig {
                fusion,
                ..Default::default()
            };
            let net = ProgressNet::new(&(vs.root() / format!("{fusion:?}")), &cfg, shape.clone());
            let frames = Tensor::randint(255, [4, 2, 16, 16, 3], (Kind::Uint8, Device::Cpu));
            let out = net.forward(&frames, None);
            assert_eq!(out.stage_logits.size(), [4, 3]);
            let phi = out.phi(2);
            assert_eq!(phi.size(), [4]);
            let mask = Tensor::from_slice(&[1.0f32, 0.0]).repeat([4, 1]);
            let masked = net.forward(&frames, Some(&mask)).phi(2);
            assert!(masked.isfinite().all().int64_value(&[]) == 1);
        }
        // A certain "done" prediction is Φ = 1; certain stage 1 at progress 0.5 is 0.75.
        let out = NetOutput {
            stage_logits: Tensor::from_slice(&[0.0f32, 0.0, 50.0, 0.0, 50.0, 0.0]).reshape([2, 3]),
            stage_progress: Tensor::from_slice(&[0.2f32, 0.9, 0.1, 0.5]).reshape([2, 2]),
        };
        let phi = Vec::<f32>::try_from(out.phi(2)).unwrap();
        assert!(
            (phi[0] - 1.0).abs() < 1e-5 && (phi[1] - 0.75).abs() < 1e-5,
            "{phi:?}"
        );
    }
}
