//! Environment throughput: steps per second of a vector env under random actions.

use std::time::{Duration, Instant};

use crate::{Env, EnvBuffers, EnvError, VecEnv, rng_from_seed};

/// What a throughput measurement counted.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Throughput {
    /// Sub-envs stepped together.
    pub envs: usize,
    /// Measured wall time, s (the warm-up excluded).
    pub seconds: f64,
    /// Env steps taken (vector steps × sub-envs), resets included.
    pub env_steps: u64,
    /// Episodes that ended.
    pub episodes: u64,
    /// Env steps per second.
    pub sps: f64,
}

/// Step `venv` with uniformly random actions (seeded `seed`; its envs reset with `seed`)
/// for 0.5 s of warm-up, then for `seconds`, calling `on_tick(elapsed s, steps/s so far)`
/// ten times a second.
pub fn random_action_throughput(
    venv: &mut dyn VecEnv,
    seconds: f64,
    seed: u64,
    mut on_tick: impl FnMut(f64, f64),
) -> Result<Throughput, EnvError> {
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(EnvError::InvalidOptions(format!(
            "the measured duration must be a positive number of seconds, got {seconds}"
        )));
    }
    let space = venv.single_action_space().clone();
    let (n, a) = (venv.num_envs(), space.flat_dim());
    let mut rng = rng_from_seed(seed);
    let mut actions = vec![0.0; n * a];
    venv.reset(Some(seed))?;
    let mut step = |venv: &mut dyn VecEnv| -> Result<u64, EnvError> {
        for i in 0..n {
            space.sample(&mut rng, &mut actions[i * a..(i + 1) * a]);
        }
        let b = venv.step(&actions)?;
        Ok(b.ended.iter().filter(|e| **e).count() as u64)
    };
    let warmup = Instant::now();
    while warmup.elapsed() < Duration::from_millis(500) {
        step(venv)?;
    }
    let (start, budget) = (Instant::now(), Duration::from_secs_f64(seconds));
    let (mut steps, mut episodes, mut last_tick) = (0u64, 0u64, 0u64);
    while start.elapsed() < budget {
        episodes += step(venv)?;
        steps += 1;
        let elapsed = start.elapsed().as_secs_f64();
        let tick = (elapsed * 10.0) as u64;
        if tick != last_tick {
            last_tick = tick;
            on_tick(elapsed, (steps * n as u64) as f64 / elapsed);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let env_steps = steps * n as u64;
    Ok(Throughput {
        envs: n,
        seconds,
        env_steps,
        episodes,
        sps: env_steps as f64 / seconds,
    })
}

/// Camera frames per second: render every view in `views` at `size` × `size` px after
/// each random-action step of `env` (seeded `seed`), for `seconds` of wall time on the
/// calling thread; returns (view-frames rendered, seconds spent rendering them).
pub fn render_throughput(
    env: &mut dyn Env,
    views: &[String],
    size: usize,
    seconds: f64,
    seed: u64,
) -> Result<(u64, f64), EnvError> {
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(EnvError::InvalidOptions(format!(
            "the measured duration must be a positive number of seconds, got {seconds}"
        )));
    }
    let space = env.action_space().clone();
    let mut rng = rng_from_seed(seed);
    let mut action = vec![0.0; space.flat_dim()];
    let mut b = EnvBuffers::new(env);
    b.reset(env, Some(seed))?;
    let mut rgb = Vec::new();
    let (mut frames, mut render_time) = (0u64, 0.0f64);
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < seconds {
        space.sample(&mut rng, &mut action);
        b.step(env, &action)?;
        if b.ended() {
            b.reset(env, None)?;
        }
        let t = Instant::now();
        for view in views {
            if !env.render(view, size, size, &mut rgb) {
                return Err(EnvError::InvalidOptions(format!(
                    "rendering `{view}` failed"
                )));
            }
            frames += 1;
        }
        render_time += t.elapsed().as_secs_f64();
    }
    Ok((frames, render_time))
}
