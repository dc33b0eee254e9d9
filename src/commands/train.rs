//! `rapt train`: the job `rapt_run::start` starts from the arguments, trained by
//! `rapt_run::train`, its outcome printed.

use anyhow::{Context, Result};
use rapt_ppo::Dist;
use rapt_run::{StartRequest, Started};

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
    let outcome = rapt_run::train(*prepared, Some(&run), &options)?;
    print!("{outcome}");
    if outcome.evaluation.is_none() {
        println!("run directory: {}", run.path().display());
    }
    crate::interrupt::outcome()
}
