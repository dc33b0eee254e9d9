//! `rapt record`: a reward-model dataset of multi-view frames labelled with the env's
//! oracle progress (Φ, stage, progress within the stage, success) at every step.

use std::path::Path;

use anyhow::Result;
use rapt_rm::DatasetWriter;
use rapt_rm::record::{RecordOptions, RecordPolicy, manifest_for, record_dataset};

use super::render::load_policy;
use crate::cli::RecordArgs;

/// Record as `args` says.
pub fn run(args: &RecordArgs) -> Result<()> {
    let mut env = rapt_envs::registry().make(&args.env.env, &args.env.params, args.max_steps)?;
    let views = rapt_core::select_views(&*env, &args.env.env, &args.views)?;
    let manifest = manifest_for(
        &*env,
        &args.env.env,
        &args.env.params,
        views.clone(),
        args.size,
    )?;
    let mut writer = DatasetWriter::open(&args.out, manifest)?;
    let policy = match args.policy.as_str() {
        "expert" => RecordPolicy::Expert,
        "random" => RecordPolicy::Random,
        "mixed" => RecordPolicy::Mixed,
        dir => RecordPolicy::Policy(load_policy(Path::new(dir))?),
    };
    let bar = rapt_run::progress_bar(
        u64::from(args.episodes),
        "{bar:40} {pos}/{len} episodes {eta}",
        false,
    );
    let mut options = RecordOptions {
        policy,
        episodes: args.episodes,
        seed: args.env.seed,
        clip_fraction: args.clip_fraction,
    };
    let s = record_dataset(&mut env, &mut writer, &mut options, |_| bar.inc(1))?;
    bar.finish_and_clear();
    println!(
        "{}: {} episodes ({} successful) + {} clipped copies, {} frame sets of {} views at {}×{} px → {}",
        args.env.env,
        args.episodes,
        s.successes,
        s.clipped,
        s.frame_sets,
        views.join(","),
        args.size,
        args.size,
        args.out.display()
    );
    Ok(())
}
