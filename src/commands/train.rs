use std::collections::VecDeque;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use rapt_core::{EpisodeStats, VecEnv, VecEnvOptions, rng_from_seed};
use tracing::{info, warn};

use crate::cli::TrainArgs;
use crate::config::{self, PolicyKind, RunConfig};
use crate::runs;

/// Episodes averaged in the progress bar and the logs.
const WINDOW: usize = 100;

/// Load the config, create the run directory, run the loop, write metrics.
pub fn run(args: &TrainArgs) -> Result<()> {
    if let Some(run_dir) = &args.resume {
        return resume(run_dir);
    }
    let config_path = args.config.as_ref().context("a config file is required")?;
    let loaded = config::load(config_path, &args.set)?;
    let cfg = loaded.config;
    let run_dir = match &args.run_dir {
        Some(dir) => {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            dir.clone()
        }
        None => runs::new_run_dir(Path::new("runs"), &cfg.name)?,
    };
    let _claim = runs::lock(&run_dir)?;
    // Starting over an earlier run would replace its config and mix two runs' metrics and
    // checkpoints.
    ensure!(
        !run_dir.join("config.ron").exists(),
        "{} already holds a run: continue it with `rapt train --resume {}`, or choose another \
         --run-dir",
        run_dir.display(),
        run_dir.display()
    );
    runs::write_atomic(&run_dir.join("config.ron"), loaded.resolved_ron.as_bytes())?;
    info!(run_dir = %run_dir.display(), config = %config_path.display(), "run started");
    log_backend(&cfg)?;
    match cfg.train.policy {
        PolicyKind::Ppo => {
            crate::interrupt::install();
            super::ppo::train(&cfg, &run_dir).map(|_| ())
        }
        PolicyKind::Random => {
            warn!(
                "policy: Random: this run steps `{}` with uniformly random actions and \
                 records its episode statistics as a baseline",
                cfg.env.id
            );
            random_rollout(&cfg, &run_dir)
        }
    }
}

/// `rapt train --resume RUN_DIR`: the saved config, the newest checkpoint.
fn resume(run_dir: &Path) -> Result<()> {
    let saved = run_dir.join("config.ron");
    ensure!(
        saved.exists(),
        "cannot resume {}: it has no config.ron (is it a run directory?)",
        run_dir.display()
    );
    let _claim = runs::lock(run_dir)?;
    let cfg = config::load(&saved, &[])?.config;
    ensure!(
        cfg.train.policy == PolicyKind::Ppo,
        "cannot resume {}: only PPO runs have checkpoints",
        run_dir.display()
    );
    log_backend(&cfg)?;
    crate::interrupt::install();
    super::ppo::resume(&cfg, run_dir).map(|_| ())
}

fn log_backend(cfg: &RunConfig) -> Result<()> {
    let torch = rapt_ppo::libtorch_info();
    let device = cfg.device.resolve().context("choosing the device")?;
    info!(
        libtorch = torch.version,
        cuda_devices = torch.cuda_devices,
        device = ?device,
        "learner backend"
    );
    Ok(())
}

/// The last `WINDOW` finished episodes, for logged means.
#[derive(Debug, Default)]
pub(super) struct Window {
    pub(super) episodes: VecDeque<EpisodeStats>,
    pub(super) total: u64,
}

impl Window {
    pub(super) fn push(&mut self, ep: EpisodeStats) {
        if self.episodes.len() == WINDOW {
            self.episodes.pop_front();
        }
        self.episodes.push_back(ep);
        self.total += 1;
    }

    pub(super) fn mean(&self, f: impl Fn(&EpisodeStats) -> f64) -> f64 {
        if self.episodes.is_empty() {
            return f64::NAN;
        }
        self.episodes.iter().map(f).sum::<f64>() / self.episodes.len() as f64
    }
}

fn random_rollout(cfg: &RunConfig, run_dir: &Path) -> Result<()> {
    let registry = crate::registry();
    let options = VecEnvOptions {
        num_envs: cfg.env.num_envs,
        threads: cfg.env.threads,
        max_episode_steps: cfg.env.max_episode_steps,
    };
    let mut venv = registry.make_vec(&cfg.env.id, cfg.env.params_text(), &options)?;
    let space = venv.single_action_space().clone();
    let (n, a) = (venv.num_envs(), space.flat_dim());
    let mut rng = rng_from_seed(cfg.seed);
    let mut actions = vec![0.0; n * a];
    venv.reset(Some(cfg.seed))?;

    let mut csv = runs::metrics_csv(
        run_dir,
        "global_step,charts/episodic_return,charts/episodic_length,charts/success_rate,charts/SPS",
    )?;

    let total = cfg.train.total_steps;
    let bar = super::progress_bar(
        total,
        "{elapsed_precise} [{bar:30}] {human_pos}/{human_len} steps {msg}",
        false,
    );
    let mut window = Window::default();
    let start = Instant::now();
    let (mut global_step, mut next_log) = (0u64, cfg.train.log_every_steps);
    while global_step < total {
        for i in 0..n {
            space.sample(&mut rng, &mut actions[i * a..(i + 1) * a]);
        }
        let b = venv.step(&actions)?;
        for ep in b.final_info.episode.iter().zip(&b.ended) {
            if let (Some(ep), true) = ep {
                window.push(*ep);
            }
        }
        global_step += n as u64;
        if global_step >= next_log || global_step >= total {
            next_log += cfg.train.log_every_steps;
            let sps = global_step as f64 / start.elapsed().as_secs_f64();
            let (ret, len) = (window.mean(|e| e.ret), window.mean(|e| f64::from(e.length)));
            let success = window.mean(|e| f64::from(u8::from(e.success_at_end)));
            writeln!(csv, "{global_step},{ret},{len},{success},{sps:.1}")?;
            csv.flush()?;
            bar.set_position(global_step.min(total));
            bar.set_message(format!(
                "SPS {sps:.0} | return {ret:.2} | success {:.0}%",
                success * 100.0
            ));
            tracing::debug!(global_step, sps, episodic_return = ret, success, "progress");
        }
    }
    bar.finish_and_clear();
    let elapsed = start.elapsed().as_secs_f64();
    let success = window.mean(|e| f64::from(u8::from(e.success_at_end)));
    println!(
        "{}: {global_step} steps in {elapsed:.1} s ({:.0} steps/s), {} episodes; last {} \
         episodes: mean return {:.2}, mean length {:.1}, success {:.1}% (random policy)",
        cfg.env.id,
        global_step as f64 / elapsed,
        window.total,
        window.episodes.len(),
        window.mean(|e| e.ret),
        window.mean(|e| f64::from(e.length)),
        success * 100.0
    );
    println!("run directory: {}", run_dir.display());
    Ok(())
}
