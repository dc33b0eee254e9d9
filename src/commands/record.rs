//! `rapt record`: a reward-model dataset of multi-view frames labelled with the env's
//! oracle progress (Φ, stage, progress within the stage, success) at every step.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use rand::Rng as _;
use rapt_core::{Env, EnvBuffers, Space, rng_from_seed};
use rapt_rm::dataset::FORMAT;
use rapt_rm::{DatasetWriter, Episode, EpisodeHeader, EpisodeKind, Manifest};

use super::render::{Actor, act, load_policy};
use crate::cli::RecordArgs;

/// Action noise of the perturbed expert, as a fraction of each action's half-range.
const PERTURB_NOISE: f32 = 0.4;
/// Chance per step that the perturbed expert acts at random instead.
const PERTURB_RANDOM: f64 = 0.1;

/// Record as `args` says.
pub fn run(args: &RecordArgs) -> Result<()> {
    ensure!(args.episodes > 0, "--episodes must be at least 1");
    ensure!(
        (8..=256).contains(&args.size),
        "--size {} must be in [8, 256]",
        args.size
    );
    ensure!(
        (0.0..=1.0).contains(&args.clip_fraction),
        "--clip-fraction {} must be in [0, 1]",
        args.clip_fraction
    );
    let registry = crate::registry();
    let mut env = registry.make(&args.env, &args.params, args.max_steps)?;
    let views = super::render::choose_views(&*env, &args.env, &args.views)?;
    if env.progress().is_none() && env.info_layout().metric_index("phi").is_none() {
        bail!(
            "`{}` has no oracle progress Φ to label frames with",
            args.env
        );
    }
    let stages: Vec<String> = match env.stages() {
        [] => vec!["progress".to_string()],
        s => s.iter().map(|s| s.to_string()).collect(),
    };
    let manifest = Manifest {
        format: FORMAT,
        env: args.env.clone(),
        params: args.params.clone(),
        views: views.clone(),
        size: args.size,
        stages,
    };
    let mut writer = DatasetWriter::open(&args.out, manifest)?;
    let mut policy = match args.policy.as_str() {
        "expert" | "random" | "mixed" => None,
        dir => Some(Actor::Policy(load_policy(Path::new(dir))?)),
    };
    let mut rng = rng_from_seed(args.seed ^ 0x005E_C04D);
    let bar = super::progress_bar(
        u64::from(args.episodes),
        "{bar:40} {pos}/{len} episodes {eta}",
        false,
    );
    let (mut successes, mut clipped, mut frames_total) = (0u32, 0u32, 0usize);
    for k in 0..u64::from(args.episodes) {
        let seed = args.seed + k;
        let kind = match args.policy.as_str() {
            "expert" => EpisodeKind::Expert,
            "random" => EpisodeKind::Random,
            "mixed" => match rng.random_range(0.0..1.0) {
                x if x < 0.4 => EpisodeKind::Expert,
                x if x < 0.8 => EpisodeKind::PerturbedExpert,
                _ => EpisodeKind::Random,
            },
            _ => EpisodeKind::Policy,
        };
        let mut scripted = if kind == EpisodeKind::Random {
            Actor::Random
        } else {
            Actor::Expert
        };
        let actor = policy.as_mut().unwrap_or(&mut scripted);
        let ep = record_episode(&mut env, actor, kind, &views, args.size, seed, &mut rng)?;
        frames_total += ep.header.steps;
        writer.append(&ep)?;
        if ep.header.success {
            successes += 1;
            // Negative augmentation: the same episode cut before its first success.
            if rng.random_range(0.0..1.0) < args.clip_fraction
                && let Some(first) = ep.success.iter().position(|&s| s)
                && first >= 4
            {
                let cut = rng.random_range(first / 4..first * 3 / 4).max(2);
                let fsb = writer.manifest().frame_set_bytes();
                writer.append(&ep.clipped(cut, fsb, EpisodeKind::Clipped))?;
                clipped += 1;
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "{}: {} episodes ({successes} successful) + {clipped} clipped copies, {frames_total} frame sets of {} views at {}×{} px → {}",
        args.env,
        args.episodes,
        views.join(","),
        args.size,
        args.size,
        args.out.display()
    );
    Ok(())
}

/// One episode from reset `seed`, with frames and labels at every state.
fn record_episode(
    env: &mut Box<dyn Env>,
    actor: &mut Actor,
    kind: EpisodeKind,
    views: &[String],
    size: usize,
    seed: u64,
    rng: &mut rapt_core::Rng,
) -> Result<Episode> {
    let space = env.action_space().clone();
    let (low, high) = match &space {
        Space::Box(b) => (b.low.clone(), b.high.clone()),
        other => bail!("recording needs a continuous action space, this env has {other}"),
    };
    let n_stages = env.stages().len().max(1);
    let stage_metric = env.info_layout().metric_index("stage");
    let phi_metric = env.info_layout().metric_index("phi");
    let mut action = vec![0.0; space.flat_dim()];
    let mut b = EnvBuffers::new(env);
    b.reset(env, Some(seed))?;
    let mut ep = Episode {
        header: EpisodeHeader {
            seed,
            kind,
            steps: 0,
            success: false,
        },
        frames: Vec::new(),
        phi: Vec::new(),
        stage: Vec::new(),
        stage_progress: Vec::new(),
        success: Vec::new(),
    };
    let mut rgb = Vec::new();
    loop {
        for view in views {
            ensure!(
                env.render(view, size, size, &mut rgb),
                "rendering `{view}` failed"
            );
            ep.frames.extend_from_slice(&rgb);
        }
        let metrics = b.info.metrics_of(0);
        let phi = env
            .progress()
            .or(phi_metric.map(|k| metrics[k]))
            .context("the env stopped reporting Φ")?
            .clamp(0.0, 1.0);
        let scaled = phi * n_stages as f32;
        let stage = match stage_metric {
            Some(k) => (metrics[k].max(0.0) as usize).min(n_stages),
            None => (scaled.floor() as usize).min(n_stages),
        };
        ep.phi.push(phi);
        ep.stage.push(stage as u8);
        ep.stage_progress
            .push((scaled - stage as f32).clamp(0.0, 1.0));
        ep.success.push(b.info.success[0]);
        if b.ended() {
            break;
        }
        act(actor, env, &b.obs, &space, &low, &high, rng, &mut action)?;
        if kind == EpisodeKind::PerturbedExpert {
            if rng.random_bool(PERTURB_RANDOM) {
                space.sample(rng, &mut action);
            } else {
                for ((a, lo), hi) in action.iter_mut().zip(&low).zip(&high) {
                    let half = (hi - lo) / 2.0;
                    *a = (*a + rng.random_range(-1.0..1.0) * PERTURB_NOISE * half).clamp(*lo, *hi);
                }
            }
        }
        b.step(env, &action)?;
    }
    ep.header.steps = ep.phi.len();
    ep.header.success = ep.success.last().copied().unwrap_or(false);
    Ok(ep)
}
