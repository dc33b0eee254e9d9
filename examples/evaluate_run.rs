//! Evaluate a saved run through the library API: its newest checkpoint (or the checkpoint
//! given) on held-out seeds, printed as JSON (what `rapt eval --json` does, in a few
//! lines).
//!
//! `cargo run --release --example evaluate_run -- runs/reach-YYYYmmdd-HHMMSS [EPISODES]`

use std::path::Path;

use anyhow::Context;
use rapt_ppo::Evaluation;
use rapt_run::{EvalRunOptions, evaluate_run};

/// Evaluate the run (or checkpoint) at `target` on `episodes` held-out episodes with the
/// policy's mean action, in the env its saved config names: `rapt_run::evaluate_run`,
/// the library call `rapt eval` makes, so both play the same episodes.
pub fn evaluate(target: &Path, episodes: usize) -> anyhow::Result<Evaluation> {
    let options = EvalRunOptions {
        episodes,
        ..EvalRunOptions::default()
    };
    Ok(evaluate_run(target, &options)?.evaluation)
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
