//! A trained reward model on disk and in memory: the network, what it was trained for, and
//! scoring of frame sets (also as a [`ProgressModel`] for shaping).
//!
//! A model is a directory: `weights.safetensors` and `model.json` ([`ModelMeta`]).
//! Training checkpoints add `optimizer.safetensors` and `progress.json`.

use std::fs;
use std::path::{Path, PathBuf};

use rapt_shaping::{ProgressInput, ProgressModel, ProgressScores, RewardError};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor, nn};
use thiserror::Error;

use crate::model::{NetConfig, NetShape, ProgressNet};

/// Version of the model directory format.
pub const MODEL_FORMAT: u32 = 1;
pub(crate) const WEIGHTS: &str = "weights.safetensors";
pub(crate) const META: &str = "model.json";

/// What a model directory says about its network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Format version ([`MODEL_FORMAT`]).
    pub format: u32,
    /// The env the training data came from.
    pub env: String,
    /// Stage names.
    pub stages: Vec<String>,
    /// Views and frame size the network reads.
    pub shape: NetShape,
    /// The network's layers.
    pub net: NetConfig,
    /// A task-conditioned model's tasks, in task-index order (empty, the default, for a
    /// model of one task). Its `env` names them all (`Push+PickPlace+Insert`) and its
    /// `stages` are empty: each task has its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<crate::tasks::TaskInfo>,
    /// An ensemble's members and how they combine (`None`, the default: one network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<crate::ensemble::EnsembleMeta>,
}

impl ModelMeta {
    /// The index of the task that `task` names — an env id the model was trained on, or
    /// any version of its task (`Push-v2` for a model trained on `Push-v0`), or the task's
    /// name — for a task-conditioned model; `None` for a model of one task, which scores
    /// whatever it is given.
    pub fn task_index(&self, task: &str) -> Result<Option<i64>, ModelError> {
        if self.tasks.is_empty() {
            return Ok(None);
        }
        let name = crate::tasks::task_of(task);
        self.tasks
            .iter()
            .position(|t| t.envs.iter().any(|e| e == task) || t.name == name)
            .map(|i| Some(i as i64))
            .ok_or_else(|| {
                let known: Vec<&str> = self.tasks.iter().map(|t| t.name.as_str()).collect();
                ModelError::Mismatch(format!(
                    "the task-conditioned model knows the tasks {known:?}; `{task}` is none of them (an env id of one, e.g. `{}`)",
                    self.tasks[0].envs[0]
                ))
            })
    }
}

/// A model file that cannot be used; the message names the file.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// Reading or writing failed.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The file is damaged or is not a reward model.
    #[error("{path}: corrupted or not a reward model: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The frames or episodes given do not fit the model (views, size, length).
    #[error("{0}")]
    Mismatch(String),
    /// libtorch failed.
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// The key of the SHA-256 digests (file name → hex) in `model.json` and a checkpoint's
/// `progress.json`.
const DIGESTS: &str = "sha256";

/// Record the SHA-256 of each of `names` inside `dir` under `"sha256"` in the JSON object
/// `value`.
pub(crate) fn put_digests(
    value: &mut serde_json::Value,
    dir: &Path,
    names: &[&str],
) -> Result<(), ModelError> {
    let digests = rapt_rundir::integrity::digest_files(dir, names).map_err(|e| ModelError::Io {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    value[DIGESTS] = serde_json::to_value(digests).expect("digests serialize");
    Ok(())
}

/// Remove and return the digests recorded in the JSON object `value` (empty when none
/// were: files written before digests were recorded load unchecked).
pub(crate) fn take_digests(
    value: &mut serde_json::Value,
) -> Result<std::collections::BTreeMap<String, String>, serde_json::Error> {
    match value.as_object_mut().and_then(|o| o.remove(DIGESTS)) {
        Some(digests) => serde_json::from_value(digests),
        None => Ok(Default::default()),
    }
}

/// Check the files of `digests` inside `dir`: a mismatch is [`ModelError::Corrupt`] naming
/// the file.
pub(crate) fn verify(
    dir: &Path,
    digests: &std::collections::BTreeMap<String, String>,
) -> Result<(), ModelError> {
    use rapt_rundir::integrity::IntegrityError;
    rapt_rundir::integrity::verify_files(dir, digests).map_err(|e| match e {
        IntegrityError::Mismatch { ref path, .. } => ModelError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        },
        IntegrityError::Io { path, source } => ModelError::Io {
            path,
            message: source.to_string(),
        },
        other => ModelError::Io {
            path: dir.to_path_buf(),
            message: other.to_string(),
        },
    })
}

impl From<rapt_rundir::FileError> for ModelError {
    fn from(e: rapt_rundir::FileError) -> Self {
        ModelError::Io {
            message: format!("{} ({})", e.source, e.what),
            path: e.path,
        }
    }
}

/// A reward model ready to score frames: one network, or an ensemble of them
/// ([`mod@crate::ensemble`]).
#[derive(Debug)]
pub struct RewardModel {
    vs: nn::VarStore,
    /// The network, or an ensemble's members in order.
    nets: Vec<ProgressNet>,
    meta: ModelMeta,
    /// Score in forward passes of exactly this many frame sets (padded); `None`: as many
    /// as given, in chunks of 1024.
    fixed_batch: Option<usize>,
}

impl RewardModel {
    /// A fresh, randomly initialised model (an ensemble's members under `memberK.`).
    pub fn new(meta: ModelMeta, device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let nets = match meta.ensemble {
            None => vec![ProgressNet::new(&vs.root(), &meta.net, meta.shape.clone())],
            Some(e) => (0..e.members)
                .map(|k| {
                    ProgressNet::new(
                        &(vs.root() / format!("member{k}")),
                        &meta.net,
                        meta.shape.clone(),
                    )
                })
                .collect(),
        };
        Self {
            vs,
            nets,
            meta,
            fixed_batch: None,
        }
    }

    /// Load the model in directory `dir` onto `device`.
    pub fn load(dir: &Path, device: Device) -> Result<Self, ModelError> {
        let meta_path = dir.join(META);
        let text = fs::read_to_string(&meta_path).map_err(|e| ModelError::Io {
            path: meta_path.clone(),
            message: format!("{e} (is {} a reward-model directory?)", dir.display()),
        })?;
        let corrupt = |e: serde_json::Error| ModelError::Corrupt {
            path: meta_path.clone(),
            message: e.to_string(),
        };
        let mut value: serde_json::Value = serde_json::from_str(&text).map_err(corrupt)?;
        let digests = take_digests(&mut value).map_err(corrupt)?;
        let meta: ModelMeta = serde_json::from_value(value).map_err(corrupt)?;
        if meta.format != MODEL_FORMAT {
            return Err(ModelError::Corrupt {
                path: meta_path,
                message: format!("format {} (this build reads {MODEL_FORMAT})", meta.format),
            });
        }
        if let Some(message) = meta.ensemble.and_then(|e| e.problem()) {
            return Err(ModelError::Corrupt {
                path: meta_path,
                message,
            });
        }
        let mut model = Self::new(meta, device);
        let weights = dir.join(WEIGHTS);
        if !weights.exists() {
            return Err(ModelError::Io {
                path: weights,
                message: "missing".into(),
            });
        }
        verify(dir, &digests)?;
        model.vs.load(&weights).map_err(|e| ModelError::Corrupt {
            path: weights.clone(),
            message: e.to_string(),
        })?;
        Ok(model)
    }

    /// Save the model as the directory `dir` (`model.json` and `weights.safetensors`),
    /// atomically ([`rapt_rundir::write_dir_atomic`]: written beside it, then renamed into
    /// place; a link or a file at `dir` is refused).
    /// A directory that holds other things than a model is refused, not replaced.
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        let other =
            fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) && !dir.join(META).exists();
        if other {
            return Err(ModelError::Io {
                path: dir.to_path_buf(),
                message: "not empty and holds no model: save into a new directory".into(),
            });
        }
        rapt_rundir::write_dir_atomic(dir, |tmp| self.write_files(tmp))
    }

    /// Write `model.json` and `weights.safetensors` into the existing directory `dir`.
    pub(crate) fn write_files(&self, dir: &Path) -> Result<(), ModelError> {
        let fail = |path: &Path, e: &dyn std::fmt::Display| ModelError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let weights = dir.join(WEIGHTS);
        self.vs.save(&weights).map_err(|e| fail(&weights, &e))?;
        let meta = dir.join(META);
        let mut value = serde_json::to_value(&self.meta).expect("meta serializes");
        put_digests(&mut value, dir, &[WEIGHTS])?;
        let text = serde_json::to_string_pretty(&value).expect("meta serializes");
        fs::write(&meta, text).map_err(|e| fail(&meta, &e))
    }

    /// Score ([`RewardModel::score_task_bytes`]) in forward passes of exactly `rows` frame
    /// sets, the last padded with blank frames (`None`, the default: one pass per call, in
    /// chunks of 1024). libtorch's CPU kernels round a row differently in batches of a few
    /// rows (measured: 1, 2, 5) than in larger ones; in passes of a fixed size a row's Φ
    /// depends only on its frames, whatever was batched with it — so a served model
    /// merging requests as they come and an in-process one scoring a step's batch agree
    /// bit for bit. Values of 0 count as `None`.
    pub fn set_fixed_batch(&mut self, rows: Option<usize>) {
        self.fixed_batch = rows.filter(|&r| r > 0);
    }

    /// The fixed pass size, if any ([`RewardModel::set_fixed_batch`]).
    pub fn fixed_batch(&self) -> Option<usize> {
        self.fixed_batch
    }

    /// What the model reads and predicts.
    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    /// The network (an ensemble's first member: training and adaptation refuse
    /// ensembles, [`RewardModel::single`]).
    pub fn net(&self) -> &ProgressNet {
        &self.nets[0]
    }

    /// `Ok` for a model of one network; for an ensemble, an error saying that `what`
    /// (training, adapting) needs one — its members are trained apart.
    pub fn single(&self, what: &str) -> Result<(), ModelError> {
        match self.meta.ensemble {
            None => Ok(()),
            Some(e) => Err(ModelError::Mismatch(format!(
                "{what} needs a model of one network; this is an ensemble of {} (train or adapt its members, then combine them with `rapt reward-model ensemble`)",
                e.members
            ))),
        }
    }

    /// Φ̂ (`[B]`) and the most likely stage (`[B]` i64) of the frame sets `frames`
    /// (`[B, V, S, S, 3]` u8) of the tasks `task` (a task-conditioned model's `[B]`
    /// indices), without gradients: an ensemble's members' Φ̂ combined by its aggregate,
    /// its stage the most likely under their mean stage probabilities.
    pub fn predict(&self, frames: &Tensor, task: Option<&Tensor>) -> (Tensor, Tensor) {
        let (phi, stage, _) = self.predict_spread(frames, task);
        (phi, stage)
    }

    /// As [`RewardModel::predict`], with an ensemble's spread: the population standard
    /// deviation of its members' Φ̂ per frame set (`[B]`; `None` for one network).
    pub fn predict_spread(
        &self,
        frames: &Tensor,
        task: Option<&Tensor>,
    ) -> (Tensor, Tensor, Option<Tensor>) {
        let _guard = tch::no_grad_guard();
        let stages = self.meta.shape.stages;
        let outs: Vec<_> = self
            .nets
            .iter()
            .map(|net| net.forward(frames, None, task))
            .collect();
        let Some(e) = self.meta.ensemble else {
            let out = &outs[0];
            return (out.phi(stages), out.stage_logits.argmax(1, false), None);
        };
        let phi = Tensor::stack(&outs.iter().map(|o| o.phi(stages)).collect::<Vec<_>>(), 0);
        let probs: Vec<Tensor> = outs
            .iter()
            .map(|o| o.stage_logits.softmax(-1, Kind::Float))
            .collect();
        let stage = Tensor::stack(&probs, 0)
            .mean_dim(0, false, Kind::Float)
            .argmax(1, false);
        let spread = crate::ensemble::spread(&phi);
        (
            crate::ensemble::combine_with_spread(&phi, &spread, e.aggregate),
            stage,
            Some(spread),
        )
    }

    /// The variables (for an optimizer).
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// The variables, mutably (for loading a checkpoint).
    pub fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }

    /// The device the weights live on.
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Bytes of one frame set: views × size × size × 3.
    pub fn frame_set_bytes(&self) -> usize {
        self.meta.shape.views.len() * self.meta.shape.size * self.meta.shape.size * 3
    }

    /// Φ for `frames` on the device (`[B, V, S, S, 3]` u8), without gradients, in chunks
    /// of at most `batch` rows; `task` is the task index of every row for a
    /// task-conditioned model ([`ModelMeta::task_index`]).
    pub fn phi_tensor(&self, frames: &Tensor, batch: i64, task: Option<i64>) -> Tensor {
        self.phi_spread_tensor(frames, batch, task).0
    }

    /// As [`RewardModel::phi_tensor`], with an ensemble's spread per row
    /// ([`RewardModel::predict_spread`]; `None` for one network).
    pub fn phi_spread_tensor(
        &self,
        frames: &Tensor,
        batch: i64,
        task: Option<i64>,
    ) -> (Tensor, Option<Tensor>) {
        let _guard = tch::no_grad_guard();
        let n = frames.size()[0];
        let (mut phi, mut spread) = (Vec::new(), Vec::new());
        let mut start = 0;
        while start < n {
            let end = (start + batch).min(n);
            let f = frames.slice(0, start, end, 1);
            let t = task.map(|t| Tensor::full([end - start], t, (Kind::Int64, f.device())));
            let (p, _, s) = self.predict_spread(&f, t.as_ref());
            phi.push(p);
            spread.extend(s);
            start = end;
        }
        let cat = |parts: &[Tensor]| match parts {
            [] => Tensor::zeros([0], (Kind::Float, frames.device())),
            _ => Tensor::cat(parts, 0),
        };
        (cat(&phi), self.meta.ensemble.map(|_| cat(&spread)))
    }

    /// Φ for `n` frame sets given as bytes (`n × views × size × size × 3`), of a model of
    /// one task (a task-conditioned model needs [`RewardModel::score_task_bytes`]).
    pub fn score_bytes(&self, frames: &[u8], n: usize) -> Result<Vec<f32>, ModelError> {
        self.score_task_bytes(frames, n, None)
    }

    /// As [`RewardModel::score_bytes`], the frames of the task `task` names (an env id;
    /// see [`ModelMeta::task_index`]), which a task-conditioned model requires and a model
    /// of one task ignores.
    pub fn score_task_bytes(
        &self,
        frames: &[u8],
        n: usize,
        task: Option<&str>,
    ) -> Result<Vec<f32>, ModelError> {
        Ok(self.score_task_bytes_spread(frames, n, task)?.0)
    }

    /// As [`RewardModel::score_task_bytes`], with an ensemble's spread per frame set (the
    /// population standard deviation of its members' Φ̂; `None` for one network).
    pub fn score_task_bytes_spread(
        &self,
        frames: &[u8],
        n: usize,
        task: Option<&str>,
    ) -> Result<(Vec<f32>, Option<Vec<f32>>), ModelError> {
        let index = match task {
            Some(task) => self.meta.task_index(task)?,
            None if !self.meta.tasks.is_empty() => {
                return Err(ModelError::Mismatch(format!(
                    "the model is task-conditioned ({}): name the task",
                    self.meta.env
                )));
            }
            None => None,
        };
        let fsb = self.frame_set_bytes();
        if frames.len() != n * fsb {
            return Err(ModelError::Mismatch(format!(
                "{} frame bytes for {n} frame sets, the model reads {} views of {}×{} ({fsb} bytes each)",
                frames.len(),
                self.meta.shape.views.len(),
                self.meta.shape.size,
                self.meta.shape.size
            )));
        }
        let s = self.meta.shape.size as i64;
        let v = self.meta.shape.views.len() as i64;
        let Some(rows) = self.fixed_batch else {
            let t = Tensor::from_slice(frames)
                .reshape([n as i64, v, s, s, 3])
                .to_device(self.device());
            let (phi, spread) = self.phi_spread_tensor(&t, 1024, index);
            return host(phi, spread, n);
        };
        // Whole passes of `rows` frame sets, the last padded with blank frames.
        let padded = n.div_ceil(rows) * rows;
        let mut bytes = frames.to_vec();
        bytes.resize(padded * fsb, 0);
        let t = Tensor::from_slice(&bytes)
            .reshape([padded as i64, v, s, s, 3])
            .to_device(self.device());
        let (phi, spread) = self.phi_spread_tensor(&t, rows as i64, index);
        host(phi, spread, n)
    }

    /// The model a benchmark names: `fresh:VIEWS:SIZE:STAGES` for an untrained network
    /// of that shape (e.g. `fresh:3:32:2`), else a model directory.
    pub fn load_or_fresh(spec: &str, device: Device) -> Result<Self, ModelError> {
        let Some(shape) = spec.strip_prefix("fresh:") else {
            return Self::load(Path::new(spec), device);
        };
        let parts: Result<Vec<usize>, _> = shape.split(':').map(str::parse).collect();
        match parts.as_deref() {
            Ok(&[views, size, stages]) if views > 0 && size > 0 && stages > 0 => {
                Ok(Self::untrained(views, size, stages, device))
            }
            _ => Err(ModelError::Mismatch(format!(
                "`{spec}`: expected fresh:VIEWS:SIZE:STAGES with each at least 1, e.g. fresh:3:32:2"
            ))),
        }
    }

    /// An untrained network with the default settings for `views` views of `size` px and
    /// `stages` stages (for throughput measurements).
    pub fn untrained(views: usize, size: usize, stages: usize, device: Device) -> Self {
        Self::new(
            ModelMeta {
                format: MODEL_FORMAT,
                env: "untrained".into(),
                stages: (0..stages).map(|i| format!("stage{i}")).collect(),
                shape: crate::NetShape {
                    views: (0..views).map(|i| format!("view{i}")).collect(),
                    size,
                    stages,
                    task_stages: vec![],
                },
                net: crate::NetConfig::default(),
                tasks: vec![],
                ensemble: None,
            },
            device,
        )
    }

    /// Frame sets scored per second for batches of `batch` random frame sets, from host
    /// bytes to Φ on the host as shaping calls it, measured for `seconds` after a
    /// warm-up batch.
    pub fn scoring_throughput(&self, batch: usize, seconds: f64) -> Result<f64, ModelError> {
        let shape = &self.meta().shape;
        let s = shape.size as i64;
        let frames = Tensor::randint(
            256,
            [batch as i64, shape.views.len() as i64, s, s, 3],
            (tch::Kind::Uint8, Device::Cpu),
        );
        let bytes = Vec::<u8>::try_from(frames.flatten(0, -1))?;
        self.score_bytes(&bytes, batch)?;
        let start = std::time::Instant::now();
        let mut sets = 0usize;
        while start.elapsed().as_secs_f64() < seconds {
            self.score_bytes(&bytes, batch)?;
            sets += batch;
        }
        Ok(sets as f64 / start.elapsed().as_secs_f64())
    }
}

/// A model directory's name for people and servers (`rapt reward-serve`): the run
/// directory's name for `RUN/model` (as `rapt reward-model train` writes it), else the
/// directory's own; `rapt` when it has none.
pub fn model_name(dir: &Path) -> String {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let named = match dir.file_name().and_then(|n| n.to_str()) {
        Some("model") => dir.parent().unwrap_or(&dir),
        _ => &dir,
    };
    named
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("rapt")
        .to_owned()
}

/// A learned model as a shaping potential: Φ from camera frames only.
#[derive(Debug)]
pub struct LearnedProgress {
    model: RewardModel,
    path: PathBuf,
}

impl LearnedProgress {
    /// Load the model in `dir` onto `device`.
    pub fn load(dir: &Path, device: Device) -> Result<Self, ModelError> {
        Ok(Self {
            model: RewardModel::load(dir, device)?,
            path: dir.to_path_buf(),
        })
    }

    /// `model` as a progress model, named `path` in logs and errors.
    pub fn from_model(model: RewardModel, path: PathBuf) -> Self {
        Self { model, path }
    }

    /// The model.
    pub fn model(&self) -> &RewardModel {
        &self.model
    }

    /// Load the model in `dir` onto `device` as a boxed [`ProgressModel`] scoring in
    /// forward passes of `fixed_batch` frame sets when given
    /// ([`RewardModel::set_fixed_batch`]): the loader `rapt_shaping::ModelSpec::Learned`
    /// needs (through `Shaper::new`'s loader).
    pub fn load_boxed(
        dir: &Path,
        fixed_batch: Option<usize>,
        device: Device,
    ) -> Result<Box<dyn ProgressModel>, rapt_shaping::LoadError> {
        let mut m = Self::load(dir, device).map_err(|e| Box::new(e) as rapt_shaping::LoadError)?;
        m.model.set_fixed_batch(fixed_batch);
        Ok(Box::new(m))
    }

    /// Score in forward passes of exactly `rows` frame sets ([`RewardModel::set_fixed_batch`]).
    pub fn set_fixed_batch(&mut self, rows: Option<usize>) {
        self.model.set_fixed_batch(rows);
    }
}

/// The first `n` rows of Φ and of the spread, on the host.
fn host(
    phi: Tensor,
    spread: Option<Tensor>,
    n: usize,
) -> Result<(Vec<f32>, Option<Vec<f32>>), ModelError> {
    let rows = |t: Tensor| -> Result<Vec<f32>, ModelError> {
        let mut v = Vec::<f32>::try_from(t.to_device(Device::Cpu))?;
        v.truncate(n);
        Ok(v)
    };
    Ok((rows(phi)?, spread.map(rows).transpose()?))
}

impl ProgressModel for LearnedProgress {
    fn name(&self) -> String {
        format!("Learned({})", self.path.display())
    }

    fn needs_frames(&self) -> bool {
        true
    }

    fn views(&self) -> Option<(Vec<String>, usize)> {
        Some((
            self.model.meta.shape.views.clone(),
            self.model.meta.shape.size,
        ))
    }

    fn score(&mut self, input: &ProgressInput<'_>) -> Result<ProgressScores, RewardError> {
        let frames = input.frames.ok_or_else(|| RewardError::MissingInput {
            model: self.name(),
            what: "camera frames",
        })?;
        let (phi, uncertainty) = self
            .model
            .score_task_bytes_spread(frames, input.n, Some(input.task))
            .map_err(|e| RewardError::BadInput {
                model: self.name(),
                message: e.to_string(),
            })?;
        Ok(ProgressScores { phi, uncertainty })
    }
}
