//! The multi-view progress network: one CNN shared by every view, fused across views,
//! predicting the stage (classification over `stages + 1` classes, the last one "done")
//! and the progress within each stage (regression, sigmoid), combined into Φ.
//!
//! A task-conditioned network ([`NetShape::task_stages`] not empty) reads a task index
//! beside the frames: a learned embedding of the task is added to the fused features'
//! hidden layer (Robo-Dopamine's GRM conditions on the task the same way, in words), and
//! each task has its own stage and progress outputs, so tasks may have different numbers
//! of stages.

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
    /// Number of task stages (the classifier has one more class: done); the most of any
    /// task's for a task-conditioned network.
    pub stages: usize,
    /// Stages of each task, in task-index order, for a task-conditioned network; empty
    /// (the default) for a network of one task.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub task_stages: Vec<usize>,
}

/// The network's outputs for a batch.
#[derive(Debug)]
pub struct NetOutput {
    /// `[B, stages + 1]` stage logits. For a task-conditioned network, of each row's
    /// task, padded to the most stages of any task: a task of `n` stages has classes
    /// `0..n` (stages) and `n` (done); the classes above are masked to −10⁹.
    pub stage_logits: Tensor,
    /// `[B, stages]` progress within each stage, in (0, 1).
    pub stage_progress: Tensor,
    /// `[B]` i64: each row's task's number of stages, for a task-conditioned network
    /// (`None`: every row has the network's `stages`).
    pub row_stages: Option<Tensor>,
}

impl NetOutput {
    /// Φ per frame set, `[B]`: the expectation of (stage + progress in it) / stages under
    /// the predicted stage distribution (the done class counts as `stages`). Soft, so Φ
    /// moves smoothly across a stage boundary. `stages` is the network's
    /// ([`NetShape::stages`]); a task-conditioned network's rows use their own task's.
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
        let Some(rows) = &self.row_stages else {
            return ((p * (base.unsqueeze(0) + within)).sum_dim_intlist(1, false, Kind::Float)
                / n as f64)
                .clamp(0.0, 1.0);
        };
        // Progress counts only within the row's task's stages (its done class and the
        // padding above it have none).
        let real = base.unsqueeze(0).lt_tensor(&rows.unsqueeze(1));
        let within = within * real.to_kind(Kind::Float);
        ((p * (base.unsqueeze(0) + within)).sum_dim_intlist(1, false, Kind::Float)
            / rows.to_kind(Kind::Float))
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
    /// Task-conditioned networks: the task embedding (added to the hidden layer).
    task_embedding: Option<nn::Embedding>,
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
        // One output block per task (one block for a network of one task).
        let tasks = shape.task_stages.len().max(1) as i64;
        let stage_head = nn::linear(p / "stage", cfg.hidden, tasks * (n + 1), Default::default());
        let progress_head = nn::linear(p / "progress", cfg.hidden, tasks * n, Default::default());
        let task_embedding = (!shape.task_stages.is_empty()).then(|| {
            nn::embedding(
                p / "task",
                tasks,
                cfg.hidden,
                nn::EmbeddingConfig {
                    ws_init: nn::Init::Const(0.0),
                    ..Default::default()
                },
            )
        });
        Self {
            convs,
            project,
            attention,
            hidden,
            stage_head,
            progress_head,
            task_embedding,
            shape,
        }
    }

    /// Whether the network reads a task index beside the frames.
    pub fn task_conditioned(&self) -> bool {
        self.task_embedding.is_some()
    }

    /// What the network was built for.
    pub fn shape(&self) -> &NetShape {
        &self.shape
    }

    /// Forward `frames` (`[B, V, S, S, 3]` u8 on the net's device) with `view_mask`
    /// (`[B, V]` float, 1 where a view is present; `None` = all present) and, for a
    /// task-conditioned network, each row's task index (`[B]` i64; required there,
    /// ignored otherwise).
    ///
    /// # Panics
    /// When a task-conditioned network is given no task (callers resolve it first:
    /// `RewardModel::task_index`).
    pub fn forward(
        &self,
        frames: &Tensor,
        view_mask: Option<&Tensor>,
        task: Option<&Tensor>,
    ) -> NetOutput {
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
        let Some(embedding) = &self.task_embedding else {
            let h = self.hidden.forward(&fused).relu();
            return NetOutput {
                stage_logits: self.stage_head.forward(&h),
                stage_progress: self.progress_head.forward(&h).sigmoid(),
                row_stages: None,
            };
        };
        let task = task.expect("a task-conditioned network needs each row's task");
        let h = (self.hidden.forward(&fused) + embedding.forward(task)).relu();
        let n = self.shape.stages as i64;
        let tasks = self.shape.task_stages.len() as i64;
        // Each row's own task's block of outputs.
        let pick = |out: Tensor, width: i64| {
            let idx = task.view([b, 1, 1]).expand([b, 1, width], false);
            out.view([b, tasks, width])
                .gather(1, &idx, false)
                .squeeze_dim(1)
        };
        let logits = pick(self.stage_head.forward(&h), n + 1);
        let progress = pick(self.progress_head.forward(&h), n);
        let counts: Vec<i64> = self.shape.task_stages.iter().map(|&s| s as i64).collect();
        let rows = Tensor::from_slice(&counts)
            .to_device(frames.device())
            .index_select(0, task);
        // Classes above a task's done class do not exist for it.
        let classes = Tensor::arange(n + 1, (Kind::Int64, frames.device())).unsqueeze(0);
        let absent = classes.gt_tensor(&rows.unsqueeze(1));
        NetOutput {
            stage_logits: logits.masked_fill(&absent, -1e9),
            stage_progress: progress.sigmoid(),
            row_stages: Some(rows),
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
            task_stages: vec![],
        };
        for fusion in [Fusion::Mean, Fusion::Attention] {
            let cfg = NetConfig {
                fusion,
                ..Default::default()
            };
            let net = ProgressNet::new(&(vs.root() / format!("{fusion:?}")), &cfg, shape.clone());
            let frames = Tensor::randint(255, [4, 2, 16, 16, 3], (Kind::Uint8, Device::Cpu));
            let out = net.forward(&frames, None, None);
            assert_eq!(out.stage_logits.size(), [4, 3]);
            let phi = out.phi(2);
            assert_eq!(phi.size(), [4]);
            let mask = Tensor::from_slice(&[1.0f32, 0.0]).repeat([4, 1]);
            let masked = net.forward(&frames, Some(&mask), None).phi(2);
            assert!(masked.isfinite().all().int64_value(&[]) == 1);
        }
        // A certain "done" prediction is Φ = 1; certain stage 1 at progress 0.5 is 0.75.
        let out = NetOutput {
            stage_logits: Tensor::from_slice(&[0.0f32, 0.0, 50.0, 0.0, 50.0, 0.0]).reshape([2, 3]),
            stage_progress: Tensor::from_slice(&[0.2f32, 0.9, 0.1, 0.5]).reshape([2, 2]),
            row_stages: None,
        };
        let phi = Vec::<f32>::try_from(out.phi(2)).unwrap();
        assert!(
            (phi[0] - 1.0).abs() < 1e-5 && (phi[1] - 0.75).abs() < 1e-5,
            "{phi:?}"
        );
    }

    #[test]
    fn a_task_conditioned_net_scores_each_row_by_its_own_tasks_stages() {
        let vs = nn::VarStore::new(Device::Cpu);
        // Task 0 has 2 stages, task 1 has 3: outputs padded to 3 stages.
        let shape = NetShape {
            views: vec!["front".into()],
            size: 16,
            stages: 3,
            task_stages: vec![2, 3],
        };
        let net = ProgressNet::new(&vs.root(), &NetConfig::default(), shape);
        assert!(net.task_conditioned());
        let frames = Tensor::randint(255, [4, 1, 16, 16, 3], (Kind::Uint8, Device::Cpu));
        let task = Tensor::from_slice(&[0i64, 1, 0, 1]);
        let out = net.forward(&frames, None, Some(&task));
        assert_eq!(out.stage_logits.size(), [4, 4]);
        // Task 0 has no class 3: its probability is 0.
        let p = out.stage_logits.softmax(-1, Kind::Float);
        assert!(p.double_value(&[0, 3]) < 1e-12 && p.double_value(&[1, 3]) > 1e-6);
        // A certain "done" (class 2 for task 0, 3 for task 1) is Φ = 1 for both; certain
        // stage 1 at progress 0.5 is 0.75 for task 0 and 0.5 for task 1.
        let big = |k: usize| {
            let mut v = vec![0.0f32; 4];
            v[k] = 50.0;
            v
        };
        let logits = [big(2), big(3), big(1), big(1)].concat();
        let out = NetOutput {
            stage_logits: Tensor::from_slice(&logits).reshape([4, 4]),
            stage_progress: Tensor::full([4, 3], 0.5, (Kind::Float, Device::Cpu)),
            row_stages: Some(Tensor::from_slice(&[2i64, 3, 2, 3])),
        };
        let phi = Vec::<f32>::try_from(out.phi(3)).unwrap();
        let want = [1.0, 1.0, 0.75, 0.5];
        assert!(
            phi.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-5),
            "{phi:?}"
        );
    }
}
