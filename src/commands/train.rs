//! `rapt train`: load and validate the config, claim the run directory, hand the run to the
//! library.

use std::path::Path;

use anyhow::{Context, Result, ensure};
use rapt_core::VecEnvOptions;
use rapt_ppo::{CsvSink, Logger, ProgressSink, RunDir};
use tracing::{info, warn};

use crate::cli::TrainArgs;
use crate::config::{self, PolicyKind, RunConfig};

/// Load the config, create the run directory, run the loop, write metrics.
pub fn run(args: &TrainArgs) -> Result<()> {
    if let Some(run_dir) = &args.resume {
        return resume(run_dir);
    }
    let config_path = args.config.as_ref().context("a config file is required")?;
    let loaded = config::load(config_path, &args.set)?;
    let cfg = loaded.config;
    let run = match &args.run_dir {
        Some(dir) => RunDir::claim(dir)?,
        None => RunDir::create_new(Path::new("runs"), &cfg.name)?,
    };
    start(&run, &loaded.resolved_ron)?;
    info!(run_dir = %run.path().display(), config = %config_path.display(), "run started");
    log_backend(&cfg)?;
    match cfg.train.policy {
        PolicyKind::Ppo => {
            super::ppo::train(&cfg, &run, false, crate::interrupt::stop_flag()).map(|_| ())
        }
        PolicyKind::Random => {
            warn!(
                "policy: Random: this run steps `{}` with uniformly random actions and \
                 records its episode statistics as a baseline",
                cfg.env.id
            );
            random_baseline(&cfg, &run)
        }
    }
}

/// Save the resolved config into a new run directory; refuses a directory that holds a
/// run already (starting over would replace its config and mix two runs' metrics and
/// checkpoints).
pub fn start(run: &RunDir, resolved_ron: &str) -> Result<()> {
    ensure!(
        !run.join("config.ron").exists(),
        "{} already holds a run: continue it with `rapt train --resume {}`, or choose another \
         --run-dir",
        run.path().display(),
        run.path().display()
    );
    run.write_atomic("config.ron", resolved_ron.as_bytes())?;
    Ok(())
}

/// `rapt train --resume RUN_DIR`: the saved config, the newest checkpoint.
fn resume(run_dir: &Path) -> Result<()> {
    let saved = run_dir.join("config.ron");
    ensure!(
        saved.exists(),
        "cannot resume {}: it has no config.ron (is it a run directory?)",
        run_dir.display()
    );
    let run = RunDir::claim(run_dir)?;
    let cfg = config::load(&saved, &[])?.config;
    ensure!(
        cfg.train.policy == PolicyKind::Ppo,
        "cannot resume {}: only PPO runs have checkpoints",
        run_dir.display()
    );
    log_backend(&cfg)?;
    super::ppo::train(&cfg, &run, true, crate::interrupt::stop_flag()).map(|_| ())
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

/// `policy: Random`: episode statistics of uniformly random actions, as a baseline.
fn random_baseline(cfg: &RunConfig, run: &RunDir) -> Result<()> {
    let options = VecEnvOptions {
        num_envs: cfg.env.num_envs,
        threads: cfg.env.threads,
        max_episode_steps: cfg.env.max_episode_steps,
    };
    let mut venv = rapt_envs::registry().make_vec(&cfg.env.id, cfg.env.params_text(), &options)?;
    let mut logger = Logger::new()
        .with_sink(CsvSink::open(&run.metrics_csv()).context("opening metrics.csv")?)
        .with_sink(ProgressSink::new(0, cfg.train.total_steps));
    let s = rapt_ppo::random_baseline(
        &mut venv,
        cfg.train.total_steps,
        cfg.seed,
        cfg.train.log_every_steps,
        &mut logger,
    )?;
    println!(
        "{}: {} steps in {:.1} s ({:.0} steps/s), {} episodes; last {} \
         episodes: mean return {:.2}, mean length {:.1}, success {:.1}% (random policy)",
        cfg.env.id,
        s.global_step,
        s.seconds,
        s.global_step as f64 / s.seconds,
        s.window.total(),
        s.window.len(),
        s.window.mean(|e| e.ret),
        s.window.mean(|e| f64::from(e.length)),
        s.window.mean(|e| f64::from(u8::from(e.success_at_end))) * 100.0
    );
    println!("run directory: {}", run.path().display());
    Ok(())
}
