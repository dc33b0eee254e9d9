//! `rapt record`: a reward-model dataset of multi-view frames labelled with the env's
//! oracle progress (Φ, stage, progress within the stage, success) at every step.

use anyhow::Result;
use rapt_reward_model::DatasetWriter;
use rapt_reward_model::record::{DatasetRecordOptions, manifest_for, record_dataset};

use crate::cli::RecordArgs;

/// Record as `args` says.
pub fn run(args: &RecordArgs) -> Result<()> {
    let mut env =
        rapt_registry::registry().make(&args.env.env, &args.env.params, args.max_steps)?;
    let views = rapt_core::select_views(&*env, &args.env.env, &args.views)?;
    let manifest = manifest_for(&*env, &args.env.env, &args.env.params, views, args.size)?;
    let mut writer = DatasetWriter::open(&args.out, manifest)?;
    let bar = rapt_rundir::progress_bar(
        u64::from(args.episodes),
        "{bar:40} {pos}/{len} episodes {eta}",
        false,
    );
    let mut options = DatasetRecordOptions {
        policy: rapt_run::policy::record_policy_for(&args.policy, &args.env.env)?,
        episodes: args.episodes,
        seed: args.env.seed,
        clip_fraction: args.clip_fraction,
    };
    let s = record_dataset(&mut env, &mut writer, &mut options, |_| bar.inc(1))?;
    bar.finish_and_clear();
    println!(
        "{}",
        s.describe(writer.manifest(), args.episodes, &args.out)
    );
    Ok(())
}
