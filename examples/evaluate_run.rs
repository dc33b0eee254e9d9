//! Evaluate a saved run through the library API: its newest checkpoint (or the checkpoint
//! given) on held-out seeds, printed as JSON (what `rapt eval --json` does, in a dozen
//! lines).
//!
//! `cargo run --release --example evaluate_run -- runs/reach-YYYYmmdd-HHMMSS [EPISODES]`

use std::path::Path;

use anyhow::Context;
use rapt_core::VecEnvOptions;
use rapt_ppo::{DeviceChoice, EvalOptions, Evaluation, Learner, evaluate_policy};

/// Evaluate the run (or checkpoint) at `target` on `episodes` held-out episodes with the
/// policy's mean action, in the env its saved config names.
pub fn evaluate(target: &Path, episodes: usize) -> anyhow::Result<Evaluation> {
    let (run_dir, checkpoint) =
        rapt_run::locate_checkpoint(target, rapt_run::CheckpointDir::updates)?;
    let cfg = rapt::config::load(&run_dir.join("config.ron"), &[])?.config;
    let (mut learner, _) = Learner::load_checkpoint(&checkpoint, DeviceChoice::Cpu.resolve()?)?;
    let options = VecEnvOptions {
        num_envs: cfg.env.num_envs.min(episodes),
        threads: 1,
        max_episode_steps: cfg.env.max_episode_steps,
    };
    let mut envs = rapt_envs::registry().make_vec(&cfg.env.id, cfg.env.params_text(), &options)?;
    let held_out = EvalOptions {
        episodes,
        base: 0,
        stochastic: false,
    };
    Ok(evaluate_policy(&mut learner, &mut envs, held_out, None)?)
}

#[allow(dead_code)] // the test includes this file and calls `evaluate` itself
fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let target = args
        .next()
        .context("usage: evaluate_run RUN_DIR [EPISODES]")?;
    let episodes = match args.next() {
        Some(n) => n
            .parse()
            .with_context(|| format!("EPISODES: `{n}` is not a count"))?,
        None => 100,
    };
    let eval = evaluate(Path::new(&target), episodes)?;
    println!("{}", serde_json::to_string_pretty(&eval)?);
    Ok(())
}
