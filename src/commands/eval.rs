//! `rapt eval`: a saved run on held-out seeds (`rapt_run::evaluate_run`), printed.

use anyhow::Result;
use rapt_run::{EvalRunOptions, RecordOptions};

use crate::cli::EvalArgs;

/// Evaluate a trained policy headlessly on held-out seeds.
pub fn run(args: &EvalArgs) -> Result<()> {
    let run = rapt_run::evaluate_run(
        &args.target,
        &EvalRunOptions {
            episodes: args.episodes as usize,
            seed: args.seed,
            stochastic: args.stochastic,
            env_set: args.env_set.clone(),
            env: args.env.clone(),
            shaping: args.shaping,
            record: args.record.as_ref().map(|out| RecordOptions {
                out: out.clone(),
                episodes: args.record_episodes as usize,
                size: args.record_size,
            }),
        },
    )?;
    if let (Some(r), Some(dir)) = (&run.recording, &args.record) {
        for gif in &r.gifs {
            eprintln!("{}", gif.display());
        }
        let (n, views) = (r.episodes.len(), r.views.len());
        eprintln!(
            "recorded {n} episode(s) from {views} views into {}",
            dir.display()
        );
    }
    match args.json {
        true => println!("{}", run.json()),
        false => print!("{run}"),
    }
    Ok(())
}
