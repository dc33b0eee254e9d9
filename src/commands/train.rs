//! `rapt train`: the job `rapt_train::start` starts from the arguments, trained by
//! `rapt_train::train`, its outcome printed.

use anyhow::{Context, Result};
use rapt_ppo::Dist;
use rapt_run::RunDir;
use rapt_train::{RunConfig, StartRequest, Started, TrainOutcome};
use tracing::{info, warn};

use crate::cli::TrainArgs;

/// Start the job (new, resumed, one process or an MPI rank), train, print the outcome.
pub fn run(args: &TrainArgs) -> Result<()> {
    let dist = rapt_mpi::launch()?;
    let request = match &args.resume {
        Some(run_dir) => StartRequest::Resume {
            run_dir: run_dir.clone(),
            overrides: args.set.clone(),
        },
        None => StartRequest::New {
            config: args.config.clone().context("a config file is required")?,
            overrides: args.set.clone(),
            run_dir: args.run_dir.clone(),
        },
    };
    let outcome = rapt_train::start(&request, &dist)
        .map_err(anyhow::Error::from)
        .and_then(|started| run_started(started, args, &dist));
    match outcome {
        // A rank whose training fails ends the whole job (naming itself and the cause)
        // rather than leaving the others waiting for it.
        Err(e)
            if dist.size() > 1 && e.downcast_ref::<crate::interrupt::Interrupted>().is_none() =>
        {
            dist.abort(1, &format!("rank {}: {e:#}", dist.rank()))
        }
        other => other,
    }
}

fn run_started(started: Started, args: &TrainArgs, dist: &Dist) -> Result<()> {
    let (prepared, run) = match started {
        Started::Random { config, run } => return random(&config, &run),
        Started::Ppo { prepared, run, .. } => (prepared, run),
    };
    let options = rapt_train::TrainOptions {
        stop: crate::interrupt::stop_flag(),
        final_eval: !args.no_final_eval,
        dist: dist.clone(),
    };
    let Some(run) = run else {
        rapt_train::train(*prepared, None, &options)?;
        return Ok(());
    };
    info!(run_dir = %run.path().display(), ranks = dist.size(), "run started");
    let torch = rapt_ppo::libtorch_info();
    info!(
        libtorch = torch.version,
        cuda_devices = torch.cuda_devices,
        device = ?prepared.device,
        "learner backend"
    );
    let env_id = prepared.config.env.id.clone();
    let outcome = rapt_train::train(*prepared, Some(&run), &options)?;
    report(&env_id, &run, outcome)
}

/// `policy: Random`: the baseline's statistics.
fn random(cfg: &RunConfig, run: &RunDir) -> Result<()> {
    warn!(
        "policy: Random: this run steps `{}` with uniformly random actions and \
         records its episode statistics as a baseline",
        cfg.env.id
    );
    let s = rapt_train::random_baseline(cfg, run)?;
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

/// Print a training run's summary; a run a signal stopped ends in
/// [`Interrupted`](crate::interrupt::Interrupted).
fn report(env_id: &str, run: &RunDir, outcome: TrainOutcome) -> Result<()> {
    let TrainOutcome {
        evaluation,
        summary: s,
        eval_seconds,
    } = outcome;
    let interrupted =
        crate::interrupt::received().map(|signal| crate::interrupt::Interrupted { signal });
    let Some(e) = evaluation else {
        println!(
            "{env_id}: {} steps in {:.1} s of training ({:.0} steps/s); no final evaluation (--no-final-eval)",
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
        "{env_id}: {} steps in {:.1} s of training ({:.0} steps/s) and {eval_seconds:.1} s of evaluation; {which} over {} held-out episodes: success {:.1}% (95% CI {:.1}–{:.1}%), success once {:.1}%, mean return {:.3}",
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
