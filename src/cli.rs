//! Command-line arguments (clap), turned into validated work by [`crate::run`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use rapt_config::bounded::{count, dimensions, fraction, seconds};

/// rapt — reinforcement learning for robot manipulation and driving.
#[derive(Debug, Parser)]
#[command(name = "rapt", version, about, propagate_version = true)]
pub struct Cli {
    /// More log output (-v debug, -vv trace); `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a policy from a RON run config.
    Train(TrainArgs),
    /// List the registered environments with their spaces.
    Envs(EnvsArgs),
    /// Measure environment steps per second with random actions.
    Bench(BenchArgs),
    /// Measure PPO update throughput (samples/s) on random data.
    BenchUpdate(BenchUpdateArgs),
    /// Evaluate a trained policy headlessly (deterministic actions, held-out seeds).
    Eval(EvalArgs),
    /// Write a trained policy (weights, normalizer statistics, config; no optimizer state)
    /// into a small directory that `rapt eval` loads like a run.
    Export(ExportArgs),
    /// Run episodes with the env's scripted expert or random actions; print a per-step
    /// table of the first episode and a summary.
    Rollout(RolloutArgs),
    /// Render camera views of episodes headlessly: PNG frames and an animated GIF per view.
    Render(RenderArgs),
    /// Record a reward-model dataset: multi-view frames with the oracle's Φ, stage,
    /// within-stage progress and success per step (appends to an existing dataset).
    Record(RecordArgs),
    /// Train, evaluate or adapt a learned step-aware reward model.
    #[command(subcommand)]
    RewardModel(RewardModelCommand),
    /// Serve a learned reward model on the OpenAI-compatible chat-completions API: any
    /// client sends a frame set as images and gets Φ back (`docs/reward-models.md`).
    RewardServe(RewardServeArgs),
    /// Draw learning curves of runs into a PNG: a metric of `metrics.csv` against env
    /// steps, several runs of one setting as their mean with the range shaded.
    Plot(PlotArgs),
    /// Report runs as the field does: per task, held-out success per seed with its 95%
    /// interval, IQM over seeds, worst seed, steps and time to a success rate, curves.
    Report(ReportArgs),
}

/// `rapt report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run directories (one per seed; grouped by env id and run name).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Held-out episodes per run.
    #[arg(long, default_value_t = 200, value_parser = count::<1, 100_000, usize>)]
    pub episodes: usize,
    /// Seed base of the held-out episodes, as `rapt eval --seed`.
    #[arg(long, default_value_t = rapt_run::report::HELD_OUT_SEED, value_parser = count::<0, { rapt_core::MAX_SEED }, u64>)]
    pub seed: u64,
    /// The periodic-evaluation success rate whose first reaching is reported.
    #[arg(long, default_value_t = 0.9, value_parser = fraction)]
    pub threshold: f64,
    /// Directory for `report.md` and a curves PNG per task (default: print only).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Evaluate every run in another env id with the same spaces, e.g. runs trained on
    /// `DriveTown01-v0` in `DriveTown02-v0` (the table names the env evaluated in).
    #[arg(long)]
    pub env: Option<String>,
}

/// `rapt plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// Lines to draw: `LABEL=RUN_DIR[,RUN_DIR...][:COLUMN]` (several runs, such as
    /// seeds, are averaged; a line may draw its own column), or a bare `RUN_DIR` labelled
    /// with its name.
    #[arg(required = true, value_name = "LABEL=RUNS")]
    pub runs: Vec<String>,
    /// The `metrics.csv` column, e.g. `eval/success_rate`, `charts/episodic_return`.
    #[arg(long, default_value = "eval/success_rate")]
    pub metric: String,
    /// The PNG to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Title above the chart (default: the metric).
    #[arg(long)]
    pub title: Option<String>,
    /// Width and height, px.
    #[arg(long, default_value = "720x420", value_parser = dimensions)]
    pub size: (u32, u32),
}

/// `rapt reward-serve`.
#[derive(Debug, Args)]
pub struct RewardServeArgs {
    /// The model directory (`RUN/model` of `rapt reward-model train`).
    pub model: PathBuf,
    /// Address to listen on (port 0: any free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub addr: String,
    /// The model's name in `/v1/models` and requests (default: the run directory's name
    /// for `RUN/model`, else the directory's).
    #[arg(long)]
    pub name: Option<String>,
    /// Most frame sets scored together.
    #[arg(long, default_value_t = 32, value_parser = count::<1, 65_536, usize>)]
    pub max_batch: usize,
    /// Longest wait for more requests once one is queued, ms (only while others are being
    /// read; a lone request is scored at once).
    #[arg(long, default_value_t = 2)]
    pub max_wait_ms: u64,
    /// Requests queued before new ones get 503.
    #[arg(long, default_value_t = 256, value_parser = count::<1, 1_048_576, usize>)]
    pub queue: usize,
    /// Score in forward passes of exactly N frame sets, padded (default: each batch as it
    /// comes). A frame set's Φ then does not depend on the requests batched with it: the
    /// same bits as an in-process run with `Learned(path: …, fixed_batch: Some(N))`.
    #[arg(long, value_name = "N", value_parser = count::<1, 65_536, usize>)]
    pub fixed_batch: Option<usize>,
    /// Device and threads.
    #[command(flatten)]
    pub torch: TorchArgs,
}

/// `rapt record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Env, seed (use different ranges for training and held-out data), parameters.
    #[command(flatten)]
    pub env: EnvArgs,
    /// Who acts: `expert`, `random`, `mixed` (per episode: 40% expert, 40% perturbed
    /// expert, 20% random), or a run directory (its newest checkpoint, the policy mean).
    #[arg(long, default_value = "mixed")]
    pub policy: String,
    /// Episodes to record.
    #[arg(long, default_value_t = 100, value_parser = count::<1, 1_000_000, u32>)]
    pub episodes: u32,
    /// Views, comma-separated (default: all the env has).
    #[arg(long, value_delimiter = ',')]
    pub views: Vec<String>,
    /// Frame width and height, px.
    #[arg(long, default_value_t = 32, value_parser = count::<8, 256, usize>)]
    pub size: usize,
    /// Stop an episode after this many steps (default: the env's limit).
    #[arg(long)]
    pub max_steps: Option<u32>,
    /// Per successful episode, the chance of also storing a copy cut before it
    /// succeeded (negative augmentation), in [0, 1].
    #[arg(long, default_value_t = 0.25, value_parser = fraction)]
    pub clip_fraction: f64,
    /// Dataset directory (created, or appended to).
    #[arg(long)]
    pub out: PathBuf,
}

/// `rapt reward-model …`.
#[derive(Debug, clap::Subcommand)]
pub enum RewardModelCommand {
    /// Train a reward model on a recorded dataset.
    Train(RmTrainArgs),
    /// Evaluate a reward model on held-out episodes: VOC, MAE, stage accuracy, outcome
    /// classification, calibration plot.
    Eval(RmEvalArgs),
    /// Fine-tune a reward model on one demonstration (labels t/T) of a task variant.
    Adapt(RmAdaptArgs),
    /// Measure scoring throughput (frame sets/s) at a batch size.
    Bench(RmBenchArgs),
    /// Score frame sets given as image files, in-process; prints `{"phi": [...]}`.
    Score(RmScoreArgs),
    /// Build a reward model for a task end to end: record, train, then on-policy rounds
    /// (PPO shaped by the newest model, its states recorded and trained on) until the
    /// model is accurate on its own policies' states (the recipe file says when).
    Build(RmBuildArgs),
    /// Combine trained models (same views, size, stages, tasks) into one ensemble model
    /// that scores with all of them and combines their Φ pessimistically by default.
    Ensemble(RmEnsembleArgs),
}

/// `rapt reward-model ensemble`.
#[derive(Debug, Args)]
pub struct RmEnsembleArgs {
    /// The members' model directories (2 to 16).
    #[arg(required = true, num_args = 2..)]
    pub members: Vec<PathBuf>,
    /// The ensemble's model directory (a new one, or a model to replace).
    #[arg(long)]
    pub out: PathBuf,
    /// How the members' Φ combine per frame set, spelled as in run configs: `Mean`,
    /// `Min` or `MeanMinusStd(k)` (mean − k·population std, clamped to [0, 1]).
    #[arg(long, default_value = "MeanMinusStd(1.0)")]
    pub aggregate: String,
}

/// `rapt reward-model build`.
#[derive(Debug, Args)]
pub struct RmBuildArgs {
    /// The recipe (RON, `rapt_run::reward_recipe::RecipeConfig`; e.g.
    /// `configs/reward-models/recipe-push.ron`).
    pub recipe: PathBuf,
    /// The recipe's directory (datasets, models, PPO runs, report.md, the result in
    /// `model/`); rerunning the same command continues where it stopped.
    #[arg(long)]
    pub out: PathBuf,
    /// Override a recipe field, `path=value` (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// PPO trainings side by side, each a process pinned to its own core with one env
    /// thread (default: the cores there are, at most the recipe's policies per round);
    /// 1 trains them one after another in this process with the config's threads.
    #[arg(long, value_parser = count::<1, 1024, usize>)]
    pub jobs: Option<usize>,
    /// Device and threads of the reward-model trainings.
    #[command(flatten)]
    pub torch: TorchArgs,
}

/// `rapt reward-model score`.
#[derive(Debug, Args)]
pub struct RmScoreArgs {
    /// The model directory.
    pub model: PathBuf,
    /// Images (PNG or JPEG), one per view in the model's view order for each frame set,
    /// set after set; other sizes are resized to the model's.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// The task, as an env id (`Push-v2`): required by a task-conditioned model, ignored
    /// by a model of one task.
    #[arg(long)]
    pub task: Option<String>,
    /// Device and threads.
    #[command(flatten)]
    pub torch: TorchArgs,
}

/// Where torch runs: one argument group for every command that uses it.
#[derive(Debug, Args)]
pub struct TorchArgs {
    /// Device, spelled as in run configs: `Auto` (CUDA 0 if present, else CPU), `Cpu`,
    /// `Cuda(N)`; `auto`, `cpu`, `cuda`, `cuda:N` also work.
    #[arg(long, default_value = "Auto")]
    pub device: rapt_ppo::DeviceChoice,
    /// Torch intra-op threads (default: torch's, one per core). Use 1 when other work keeps
    /// the cores busy: torch's threads spin while waiting for each other, and a training
    /// beside two PPO runs on 2 cores took 292 s per epoch with 2 threads, 16 s with 1.
    #[arg(long, value_parser = count::<1, 1024, usize>)]
    pub threads: Option<usize>,
}

/// The env and seeds of a tool that runs single episodes.
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Environment id, e.g. `Push-v0`.
    pub env: String,
    /// Seed of the first episode (episodes use `seed`, `seed + 1`, …), at most 2⁶².
    #[arg(long, default_value_t = 0, value_parser = count::<0, { rapt_core::MAX_SEED }, u64>)]
    pub seed: u64,
    /// The env's parameters as RON text, e.g. `--params '(traffic: (vehicles: 0))'`
    /// (default: the env's defaults; `rapt envs --params` lists them).
    #[arg(long, default_value = "")]
    pub params: String,
}

/// `rapt reward-model train`.
#[derive(Debug, Args)]
pub struct RmTrainArgs {
    /// Dataset directories (from `rapt record`; same views and frame size).
    #[arg(required_unless_present = "resume")]
    pub datasets: Vec<PathBuf>,
    /// Training settings (RON; every field optional).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Run directory (default: `runs/rm-<env>-<UTC time>`); the model is `RUN/model`.
    #[arg(long, conflicts_with = "resume")]
    pub run_dir: Option<PathBuf>,
    /// Continue the run in this directory from its newest checkpoint.
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,
    /// Epochs in all, overriding the config (with --resume: extend or shorten the run).
    #[arg(long, value_parser = count::<1, 100_000, usize>)]
    pub epochs: Option<usize>,
    /// Leave out corrupted episode files (listed) instead of stopping.
    #[arg(long)]
    pub skip_corrupt: bool,
    /// Device and threads.
    #[command(flatten)]
    pub torch: TorchArgs,
}

/// `rapt reward-model eval`.
#[derive(Debug, Args)]
pub struct RmEvalArgs {
    /// The model directory.
    pub model: PathBuf,
    /// A dataset of held-out episodes.
    pub dataset: PathBuf,
    /// Write the calibration plot here (PNG).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Leave out corrupted episode files (listed) instead of stopping.
    #[arg(long)]
    pub skip_corrupt: bool,
    /// Device and threads.
    #[command(flatten)]
    pub torch: TorchArgs,
}

/// `rapt reward-model adapt`.
#[derive(Debug, Args)]
pub struct RmAdaptArgs {
    /// The model directory to start from.
    pub model: PathBuf,
    /// One episode file of a dataset (`DATASET/episodes/ep-NNNNNN.rep`).
    #[arg(long)]
    pub demo: PathBuf,
    /// Where to write the adapted model.
    #[arg(long)]
    pub out: PathBuf,
    /// The model's training dataset, rehearsed alongside the demo so the original task
    /// is not forgotten (recommended).
    #[arg(long)]
    pub replay: Option<PathBuf>,
    /// Fine-tune every layer instead of only the first convolution.
    #[arg(long)]
    pub all_layers: bool,
    /// Fine-tuning steps.
    #[arg(long, default_value_t = 200, value_parser = count::<1, 1_048_576, usize>)]
    pub steps: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 3e-4)]
    pub learning_rate: f64,
    /// Device and threads.
    #[command(flatten)]
    pub torch: TorchArgs,
}

/// `rapt reward-model bench`.
#[derive(Debug, Args)]
pub struct RmBenchArgs {
    /// The model directory (or `fresh:VIEWS:SIZE:STAGES`, e.g. `fresh:3:32:2`, for an
    /// untrained network of that shape).
    pub model: String,
    /// Frame sets per batch.
    #[arg(long, default_value_t = 256, value_parser = count::<1, 1_048_576, usize>)]
    pub batch: usize,
    /// Seconds to measure.
    #[arg(long, default_value_t = 5.0, value_parser = seconds)]
    pub seconds: f64,
    /// Also serve the model (`rapt reward-serve`'s server, in this process, scoring up to
    /// `--batch` frame sets together) and load it from this many concurrent clients for
    /// `--seconds`: frame sets/s against in-process scoring, p50 and p99 latency.
    #[arg(long, value_name = "CLIENTS", value_parser = count::<1, 1024, usize>)]
    pub served: Option<usize>,
    /// Score in forward passes of exactly N frame sets, padded (as `rapt reward-serve
    /// --fixed-batch N`), in-process and served: what batching-independent Φ costs.
    #[arg(long, value_name = "N", value_parser = count::<1, 65_536, usize>)]
    pub fixed_batch: Option<usize>,
    /// Device and threads.
    #[command(flatten)]
    pub torch: TorchArgs,
}

/// Who acts in `rapt rollout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RolloutPolicy {
    /// The env's privileged scripted expert.
    Expert,
    /// Uniformly random actions.
    Random,
}

/// `rapt rollout`.
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// Env, seed, parameters.
    #[command(flatten)]
    pub env: EnvArgs,
    /// Who acts.
    #[arg(long, value_enum, default_value_t = RolloutPolicy::Expert)]
    pub policy: RolloutPolicy,
    /// Episodes to run.
    #[arg(long, default_value_t = 10, value_parser = count::<1, 1_000_000, u32>)]
    pub episodes: u32,
    /// Print the summary only, no per-step table.
    #[arg(long)]
    pub quiet: bool,
    /// Print the summary as one JSON object (with the env's metrics averaged).
    #[arg(long)]
    pub json: bool,
    /// Also write every action, observation, reward and flag of each episode to this JSON
    /// file (`{env, params, episodes: [{seed, actions, obs, rewards, terminated,
    /// truncated}]}`), to check another front end against (the Python package's tests do).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
}

/// `rapt render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Env, seed, parameters.
    #[command(flatten)]
    pub env: EnvArgs,
    /// Who acts: `expert`, `random`, or a run directory (its newest checkpoint, the
    /// policy mean).
    #[arg(long, default_value = "expert")]
    pub policy: String,
    /// Views to render, comma-separated (default: all the env has).
    #[arg(long, value_delimiter = ',')]
    pub views: Vec<String>,
    /// Image width and height, px.
    #[arg(long, default_value_t = 64, value_parser = count::<8, 1024, usize>)]
    pub size: usize,
    /// Episodes.
    #[arg(long, default_value_t = 1, value_parser = count::<1, 1_000_000, u32>)]
    pub episodes: u32,
    /// Stop an episode after this many steps.
    #[arg(long)]
    pub max_steps: Option<u32>,
    /// Output directory: `VIEW/ep000_step0000.png` and `VIEW.gif` (4× enlarged).
    #[arg(long, required_unless_present = "bench")]
    pub out: Option<PathBuf>,
    /// Measure instead: render the views of random-action episodes for this many seconds
    /// (one thread) and print view-frames per second; nothing is written.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub bench: Option<f64>,
}

/// `rapt train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The run config (RON), e.g. `configs/reach.ron`.
    #[arg(required_unless_present = "resume")]
    pub config: Option<PathBuf>,
    /// Override a config field, e.g. `--set env.num_envs=16` (repeatable). With
    /// `--resume`, only `device`, `train.final_eval_episodes` and
    /// `train.keep_checkpoints`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Run directory (default: `runs/<name>-<UTC time>`). One whose run saved no
    /// checkpoint is started over.
    #[arg(long, conflicts_with = "resume")]
    pub run_dir: Option<PathBuf>,
    /// Continue the run in this directory from its newest checkpoint (from update 0 if
    /// it has none), with its saved config (same counters, schedule and seeds).
    #[arg(long, value_name = "RUN_DIR", conflicts_with = "config")]
    pub resume: Option<PathBuf>,
    /// Skip the final evaluation (also after SIGINT/SIGTERM: save and exit promptly).
    #[arg(long)]
    pub no_final_eval: bool,
}

/// `rapt envs`.
#[derive(Debug, Args)]
pub struct EnvsArgs {
    /// Print one JSON object per env instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also print each env's default parameters.
    #[arg(long)]
    pub params: bool,
}

/// `rapt bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Environment id, e.g. `CartPole-v1`.
    pub env: String,
    /// Number of sub-environments.
    #[arg(long, default_value_t = 64, value_parser = count::<1, { rapt_core::MAX_NUM_ENVS as u64 }, usize>)]
    pub envs: usize,
    /// Threads stepping them, the caller's included.
    #[arg(long, default_value_t = 1, value_parser = count::<1, 1024, usize>)]
    pub threads: usize,
    /// Measured duration, s (after a 0.5 s warm-up).
    #[arg(long, default_value_t = 5.0, value_parser = seconds)]
    pub seconds: f64,
    /// Seed of the environments and the random actions, at most 2⁶².
    #[arg(long, default_value_t = 0, value_parser = count::<0, { rapt_core::MAX_SEED }, u64>)]
    pub seed: u64,
    /// Episode step limit (default: the env's own); e.g. 50 to match a peer's episodes.
    #[arg(long)]
    pub max_episode_steps: Option<u32>,
    /// The env's parameters as RON text, e.g. `--params '(observation: Vector)'`
    /// (default: the env's defaults).
    #[arg(long, default_value = "")]
    pub params: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `rapt export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A run directory (its newest checkpoint) or a checkpoint directory.
    pub target: PathBuf,
    /// The directory to write (must be new or empty), e.g. `assets/policies/Drive-v0`.
    pub out: PathBuf,
}

/// `rapt eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A run directory (its newest checkpoint) or a checkpoint directory.
    pub target: PathBuf,
    /// Episodes to evaluate.
    #[arg(long, default_value_t = 200, value_parser = count::<1, 1_000_000, u32>)]
    pub episodes: u32,
    /// Seed offset; evaluation seeds are 10⁹ + this + i, disjoint from training's; at
    /// most 2⁶².
    #[arg(long, default_value_t = 0, value_parser = count::<0, { rapt_core::MAX_SEED }, u64>)]
    pub seed: u64,
    /// Override an env parameter, e.g. `--env-set reward=Sparse` (repeatable).
    #[arg(long = "env-set", value_name = "FIELD=VALUE")]
    pub env_set: Vec<String>,
    /// Evaluate in another env id with the same spaces (the run's env parameters apply),
    /// e.g. a policy trained on `DriveTown01-v0` in `DriveTown02-v0`.
    #[arg(long)]
    pub env: Option<String>,
    /// Sample actions from the policy instead of taking its mean.
    #[arg(long)]
    pub stochastic: bool,
    /// Also report the shaping terms of a shaped run (`shaping_return`): loads its
    /// progress model, or contacts its reward server (without this flag, a run shaped
    /// through a server evaluates while the server is down).
    #[arg(long)]
    pub shaping: bool,
    /// Also record the first `--record-episodes` evaluation episodes (same seeds, the
    /// policy mean) from every camera view: PNG frames and a GIF per view in this directory.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Episodes to record with `--record`.
    #[arg(long, default_value_t = 3, value_parser = count::<1, 1_000_000, u32>)]
    pub record_episodes: u32,
    /// Frame size for `--record`, px.
    #[arg(long, default_value_t = 64, value_parser = count::<8, 1024, usize>)]
    pub record_size: usize,
    /// Print one JSON object (with a `per_episode` array).
    #[arg(long)]
    pub json: bool,
}

/// `rapt bench-update`: the same update as `benches/peers/torch_ppo_update.py`.
#[derive(Debug, Args)]
pub struct BenchUpdateArgs {
    /// Observation slots.
    #[arg(long, default_value_t = 30, value_parser = count::<1, 1_048_576, usize>)]
    pub obs: usize,
    /// Action slots.
    #[arg(long, default_value_t = 4, value_parser = count::<1, 65_536, usize>)]
    pub act: usize,
    /// Hidden layer widths, e.g. `256,256`.
    #[arg(long, value_delimiter = ',', default_value = "256,256")]
    pub hidden: Vec<i64>,
    /// Envs per rollout (batch = envs × steps).
    #[arg(long, default_value_t = 256, value_parser = count::<1, { rapt_core::MAX_NUM_ENVS as u64 }, usize>)]
    pub envs: usize,
    /// Steps per env per rollout.
    #[arg(long, default_value_t = 64, value_parser = count::<1, 1_048_576, usize>)]
    pub steps: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = 4096, value_parser = count::<1, 16_777_216, usize>)]
    pub minibatch: usize,
    /// Epochs per update.
    #[arg(long, default_value_t = 10, value_parser = count::<1, 100_000, usize>)]
    pub epochs: usize,
    /// Torch intra-op threads.
    #[arg(long, default_value_t = 2, value_parser = count::<1, 1024, usize>)]
    pub threads: usize,
    /// Timed updates (after one warm-up).
    #[arg(long, default_value_t = 3, value_parser = count::<1, 100_000, usize>)]
    pub updates: usize,
    /// An image before the `--obs` vector slots, `C,H,W` (e.g. CaRL's raster, `6,64,64`):
    /// the policy then encodes it with the CNN of `--channels` and `--features`.
    #[arg(long, value_delimiter = ',', num_args = 1)]
    pub image: Option<Vec<usize>>,
    /// Output channels of the CNN's 3×3 stride-2 convolutions (with `--image`).
    #[arg(long, value_delimiter = ',', default_value = "32,64,64")]
    pub channels: Vec<i64>,
    /// Width of the CNN's feature vector (with `--image`).
    #[arg(long, default_value_t = 256, value_parser = count::<1, 65_536, i64>)]
    pub features: i64,
    /// Action head: `gaussian` or `beta` (CaRL's).
    #[arg(long, default_value = "gaussian", value_parser = ["gaussian", "beta"])]
    pub head: String,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}
