//! `rapt train`: load and validate the config, claim the run directory, hand the run to
//! `rapt_train`, print the outcome.

use std::path::Path;

use anyhow::{Context, Result};
use rapt_ppo::Dist;
use rapt_run::RunDir;
use rapt_train::{PolicyKind, RunConfig, TrainOutcome, config};
use tracing::{info, warn};

use crate::cli::TrainArgs;

/// Load the config, create the run directory, run the loop, write metrics.
pub fn run(args: &TrainArgs) -> Result<()> {
    let dist = rapt_mpi::launch()?;
    if dist.size() > 1 {
        return distributed(dist, args);
    }
    if let Some(run_dir) = &args.resume {
        return resume(run_dir, args);
    }
    let config_path = args.config.as_ref().context("a config file is required")?;
    let loaded = config::load(config_path, &args.set)?;
    let cfg = loaded.config;
    rapt_train::preflight(&cfg)?;
    let run = match &args.run_dir {
        Some(dir) => RunDir::claim(dir)?,
        None => RunDir::create_new(Path::new("runs"), &cfg.name)?,
    };
    rapt_train::start_run(&run, &loaded.resolved_ron)?;
    info!(run_dir = %run.path().display(), config = %config_path.display(), "run started");
    log_backend(&cfg)?;
    match cfg.train.policy {
        PolicyKind::Ppo => train(&cfg, &run, false, args, rapt_ppo::dist::single()),
        PolicyKind::Random => {
            warn!(
                "policy: Random: this run steps `{}` with uniformly random actions and \
                 records its episode statistics as a baseline",
                cfg.env.id
            );
            let s = rapt_train::random_baseline(&cfg, &run)?;
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
    }
}

/// `rapt train --resume RUN_DIR`: the saved config (with the `--set` overrides
/// [`rapt_train::RESUME_SETTABLE`] allows, saved back), the newest checkpoint.
fn resume(run_dir: &Path, args: &TrainArgs) -> Result<()> {
    let (cfg, run) = rapt_train::claim_for_resume(run_dir, &args.set)?;
    log_backend(&cfg)?;
    train(&cfg, &run, true, args, rapt_ppo::dist::single())
}

/// `mpirun -np N rapt train ...`: rank 0 prepares the run (config with `ranks` = N, run
/// directory) and shares it; every rank trains; rank 0 writes and reports. A rank whose
/// training fails ends the whole job (naming itself and the cause) rather than leaving
/// the others waiting for it.
fn distributed(dist: Dist, args: &TrainArgs) -> Result<()> {
    let resume = args.resume.is_some();
    let prepared = (dist.rank() == 0).then(|| prepare(args, dist.size()));
    let shared = prepared.as_ref().map(|p| match p {
        Ok((cfg, run)) => Ok((cfg.clone(), run.path().to_path_buf())),
        Err(e) => Err(rapt_train::RunError::Invalid(format!("{e:#}"))),
    });
    let (cfg, run_dir) = rapt_train::share_start(dist.as_ref(), shared)?;
    let outcome = match prepared {
        Some(Ok((cfg, run))) => {
            info!(run_dir = %run.path().display(), ranks = dist.size(), "data-parallel run started");
            log_backend(&cfg)?;
            train(&cfg, &run, resume, args, dist.clone())
        }
        _ => {
            let options = train_options(resume, args, dist.clone());
            rapt_train::train_worker(&cfg, &options)
                .map(|_| ())
                .with_context(|| {
                    format!("rank {} of the run in {}", dist.rank(), run_dir.display())
                })
        }
    };
    match outcome {
        Err(e) if e.downcast_ref::<crate::interrupt::Interrupted>().is_none() => {
            dist.abort(1, &format!("{e:#}"))
        }
        other => other,
    }
}

/// Rank 0's part of starting a data-parallel run: `--resume`'s claim, or the config
/// loaded with `ranks` = `ranks`, checked, and a new run directory.
fn prepare(args: &TrainArgs, ranks: usize) -> Result<(RunConfig, RunDir)> {
    if let Some(run_dir) = &args.resume {
        return Ok(rapt_train::claim_for_resume(run_dir, &args.set)?);
    }
    let config_path = args.config.as_ref().context("a config file is required")?;
    let mut overrides = args.set.clone();
    overrides.push(format!("ranks={ranks}"));
    let loaded = config::load(config_path, &overrides)?;
    let cfg = loaded.config;
    anyhow::ensure!(
        cfg.train.policy == PolicyKind::Ppo,
        "only PPO runs train data-parallel (`train.policy` is {:?}); run it without mpirun",
        cfg.train.policy
    );
    rapt_train::preflight(&cfg)?;
    let run = match &args.run_dir {
        Some(dir) => RunDir::claim(dir)?,
        None => RunDir::create_new(Path::new("runs"), &cfg.name)?,
    };
    rapt_train::start_run(&run, &loaded.resolved_ron)?;
    info!(config = %config_path.display(), "config loaded");
    Ok((cfg, run))
}

fn train_options(resume: bool, args: &TrainArgs, dist: Dist) -> rapt_train::TrainOptions {
    rapt_train::TrainOptions {
        resume,
        stop: crate::interrupt::stop_flag(),
        final_eval: !args.no_final_eval,
        dist,
    }
}

/// Train (or resume) with SIGINT/SIGTERM as the stop flag, then print the summary; a
/// run a signal stopped ends in [`Interrupted`](crate::interrupt::Interrupted).
fn train(cfg: &RunConfig, run: &RunDir, resume: bool, args: &TrainArgs, dist: Dist) -> Result<()> {
    let options = train_options(resume, args, dist);
    let TrainOutcome {
        evaluation,
        summary: s,
        eval_seconds,
    } = rapt_train::train(cfg, run, &options)?;
    let interrupted =
        crate::interrupt::received().map(|signal| crate::interrupt::Interrupted { signal });
    let Some(e) = evaluation else {
        println!(
            "{}: {} steps in {:.1} s of training ({:.0} steps/s); no final evaluation (--no-final-eval)",
            cfg.env.id,
            s.global_step,
            s.train_seconds,
            s.steps as f64 / s.train_seconds,
        );
        println!("run directory: {}", run.path().display());
        return interrupted.map_or(Ok(()), |i| Err(i.into()));
    };
    let (lo, hi) = e.success_ci95;
    // Only a finished run's summary says "final evaluation" (scripts look for it).
    let which = if s.stopped_early {
        "evaluation at interruption"
    } else {
        "final evaluation"
    };
    println!(
        "{}: {} steps in {:.1} s of training ({:.0} steps/s) and {eval_seconds:.1} s of evaluation; {which} over {} held-out episodes: success {:.1}% (95% CI {:.1}–{:.1}%), success once {:.1}%, mean return {:.3}",
        cfg.env.id,
        s.global_step,
        s.train_seconds,
        s.steps as f64 / s.train_seconds,
        e.episodes,
        e.success_rate * 100.0,
        lo * 100.0,
        hi * 100.0,
        e.success_once_rate * 100.0,
        e.mean_return
    );
    super::eval::print_metrics(&e);
    interrupted.map_or(Ok(()), |i| Err(i.into()))
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
