//! `rapt train`: the job `rapt_run::start` starts from the arguments, trained by
//! `rapt_run::train`, its outcome printed.

use anyhow::{Context, Result};
use rapt_ppo::Dist;
use rapt_run::{StartRequest, Started, TrainOutcome};
use rapt_rundir::RunDir;
use tracing::info;

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
    let outcome = rapt_run::start(&request, &dist)
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
        Started::Random { config, run } => {
            print!("{}", rapt_run::random_baseline(&config, &run)?);
            println!("run directory: {}", run.path().display());
            return Ok(());
        }
        Started::Ppo { prepared, run, .. } => (prepared, run),
    };
    let options = rapt_run::TrainOptions {
        stop: crate::interrupt::stop_flag(),
        final_eval: !args.no_final_eval,
        dist: dist.clone(),
    };
    let Some(run) = run else {
        rapt_run::train(*prepared, None, &options)?;
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
    let outcome = rapt_run::train(*prepared, Some(&run), &options)?;
    report(&run, outcome)
}

/// Print a training run's summary; a run a signal stopped ends in
/// [`Interrupted`](crate::interrupt::Interrupted).
fn report(run: &RunDir, outcome: TrainOutcome) -> Result<()> {
    print!("{outcome}");
    if outcome.evaluation.is_none() {
        println!("run directory: {}", run.path().display());
    }
    match crate::interrupt::received() {
        Some(signal) => Err(crate::interrupt::Interrupted { signal }.into()),
        None => Ok(()),
    }
}
