//! `rapt rollout`: episodes with the expert or random actions (`rapt_run::rollout`),
//! printed.

use anyhow::Result;
use rapt_run::rollout::{RolloutOptions, rollout, write_trace};

use crate::cli::{RolloutArgs, RolloutPolicy};

/// Run and print the rollout `args` asks for.
pub fn run(args: &RolloutArgs) -> Result<()> {
    let options = RolloutOptions {
        env: args.env.env.clone(),
        params: args.env.params.clone(),
        seed: args.env.seed,
        episodes: args.episodes,
        expert: args.policy == RolloutPolicy::Expert,
    };
    let print_table = !args.quiet && !args.json;
    let report = rollout(&options, args.trace.is_some(), &mut |line| {
        if print_table {
            println!("{line}");
        }
    })?;
    if let Some(path) = &args.trace {
        write_trace(&report, &args.env.params, path)?;
    }
    match args.json {
        true => println!("{}", serde_json::to_string(&report)?),
        false => print!("{report}"),
    }
    Ok(())
}
