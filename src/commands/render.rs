//! `rapt render`: camera views of episodes as PNG frames and animated GIFs, headless.

use anyhow::{Context, Result};
use rapt_core::bench::render_throughput;
use rapt_core::select_views;
use rapt_run::recording::record_episodes;

use crate::cli::RenderArgs;

/// Render episodes as `args` says.
pub fn run(args: &RenderArgs) -> Result<()> {
    let registry = rapt_registry::registry();
    let mut env = registry.make(&args.env.env, &args.env.params, args.max_steps)?;
    let views = select_views(&*env, &args.env.env, &args.views)?;
    if let Some(seconds) = args.bench {
        let (frames, time) =
            render_throughput(&mut env, &views, args.size, seconds, args.env.seed)?;
        println!(
            "{} views of {size}×{size}: {frames} view-frames in {time:.2} s of rendering: {:.0} view-frames/s on one core",
            views.join(","),
            frames as f64 / time,
            size = args.size
        );
        return Ok(());
    }
    let out = args.out.as_ref().context("--out is required")?;
    let mut actor = rapt_run::policy::actor_for(&args.policy, &args.env.env)?;
    let seeds: Vec<u64> = (0..u64::from(args.episodes))
        .map(|k| args.env.seed + k)
        .collect();
    let recording = record_episodes(&mut env, &mut actor, &views, args.size, &seeds, out)?;
    for (view, gif) in recording.views.iter().zip(&recording.gifs) {
        let frames: usize = recording.episodes.iter().map(|e| e.frames).sum();
        println!("{view}: {frames} frames → {}", gif.display());
    }
    Ok(())
}
