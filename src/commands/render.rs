//! `rapt render`: camera views of episodes as PNG frames and animated GIFs, headless.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame as GifFrame, RgbImage, RgbaImage};
use rapt_core::bench::render_throughput;
use rapt_core::{Env, rng_from_seed, select_views};
use rapt_ppo::{Actor, TrainError, run_episode};

use crate::cli::RenderArgs;

/// Enlargement of GIF frames over the rendered size.
const GIF_SCALE: u32 = 4;

/// Render episodes as `args` says.
pub fn run(args: &RenderArgs) -> Result<()> {
    ensure!(args.episodes > 0, "--episodes must be at least 1");
    ensure!(
        (8..=1024).contains(&args.size),
        "--size {} must be in [8, 1024]",
        args.size
    );
    let registry = rapt_envs::registry();
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
    let mut actor = match args.policy.as_str() {
        "expert" => Actor::Expert,
        "random" => Actor::Random,
        dir => load_policy(Path::new(dir))?,
    };
    let seeds: Vec<u64> = (0..u64::from(args.episodes))
        .map(|k| args.env.seed + k)
        .collect();
    record(&mut env, &mut actor, &views, args.size, &seeds, out)
}

/// `--policy DIR`: the policy of the newest checkpoint in run directory `dir`.
pub fn load_policy(dir: &Path) -> Result<Actor> {
    Actor::policy_of_run(dir).with_context(|| {
        format!(
            "--policy {}: not `expert`, `random`, or a run directory with checkpoints",
            dir.display()
        )
    })
}

/// Run one episode per seed in `seeds` with `actor`, writing each view's frames as
/// `out/VIEW/epNNN_stepNNNN.png` and all of them as `out/VIEW.gif`.
pub fn record(
    env: &mut Box<dyn Env>,
    actor: &mut Actor,
    views: &[String],
    size: usize,
    seeds: &[u64],
    out: &Path,
) -> Result<()> {
    let mut rng = rng_from_seed(seeds.first().copied().unwrap_or(0) ^ 0x4E7);
    let mut frames: Vec<Vec<RgbImage>> = vec![Vec::new(); views.len()];
    let mut rgb = Vec::new();
    for (k, &seed) in seeds.iter().enumerate() {
        run_episode(env, actor, seed, &mut rng, |s| {
            for (v, view) in views.iter().enumerate() {
                let image = s
                    .env
                    .render(view, size, size, &mut rgb)
                    .then(|| RgbImage::from_raw(size as u32, size as u32, rgb.clone()))
                    .flatten()
                    .ok_or_else(|| TrainError::Invalid(format!("rendering `{view}` failed")))?;
                let path = out
                    .join(view)
                    .join(format!("ep{k:03}_step{:04}.png", s.step));
                write_png(&path, &image).map_err(|e| TrainError::Invalid(format!("{e:#}")))?;
                frames[v].push(image);
            }
            Ok(())
        })?;
    }
    for (view, frames) in views.iter().zip(frames) {
        let path = out.join(format!("{view}.gif"));
        write_gif(&path, &frames)?;
        println!("{}: {} frames → {}", view, frames.len(), path.display());
    }
    Ok(())
}

fn write_png(path: &Path, image: &RgbImage) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    image
        .save(path)
        .with_context(|| format!("writing {}", path.display()))
}

/// An animated GIF of `frames` at 10 frames/s, each enlarged `GIF_SCALE`×.
fn write_gif(path: &PathBuf, frames: &[RgbImage]) -> Result<()> {
    let file = fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut encoder = GifEncoder::new_with_speed(file, 10);
    encoder.set_repeat(Repeat::Infinite)?;
    for f in frames {
        let big = image::imageops::resize(
            f,
            f.width() * GIF_SCALE,
            f.height() * GIF_SCALE,
            image::imageops::FilterType::Nearest,
        );
        let rgba: RgbaImage = image::DynamicImage::ImageRgb8(big).to_rgba8();
        encoder
            .encode_frame(GifFrame::from_parts(
                rgba,
                0,
                0,
                Delay::from_numer_denom_ms(100, 1),
            ))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
