//! The random-policy baseline: episode statistics of uniformly random actions, logged like
//! a training run so that its curve sits beside PPO's.

use std::time::Instant;

use rapt_core::{VecEnv, rng_from_seed};

use rapt_rundir::Logger;

use crate::{EpisodeWindow, TrainError};

/// How a random baseline went.
#[derive(Debug, Clone)]
pub struct BaselineSummary {
    /// Env steps taken.
    pub global_step: u64,
    /// Wall time, s.
    pub seconds: f64,
    /// The last finished episodes.
    pub window: EpisodeWindow,
}

/// Step `venv` with actions drawn uniformly from its action space (seeded `seed`) for
/// `total_steps` env steps, logging `charts/episodic_return`, `charts/episodic_length`,
/// `charts/success_rate` and `charts/SPS` every `log_every` steps.
pub fn random_baseline(
    venv: &mut dyn VecEnv,
    total_steps: u64,
    seed: u64,
    log_every: u64,
    logger: &mut Logger,
) -> Result<BaselineSummary, TrainError> {
    let space = venv.single_action_space().clone();
    let (n, a) = (venv.num_envs(), space.flat_dim());
    let mut rng = rng_from_seed(seed);
    let mut actions = vec![0.0; n * a];
    venv.reset(Some(seed))?;
    let mut window = EpisodeWindow::default();
    let start = Instant::now();
    let log_every = log_every.max(1);
    let (mut global_step, mut next_log) = (0u64, log_every);
    while global_step < total_steps {
        for i in 0..n {
            space.sample(&mut rng, &mut actions[i * a..(i + 1) * a]);
        }
        let b = venv.step(&actions)?;
        for (ep, ended) in b.final_info.episode.iter().zip(&b.ended) {
            if let (Some(ep), true) = (ep, ended) {
                window.push(*ep);
            }
        }
        global_step += n as u64;
        if global_step >= next_log || global_step >= total_steps {
            next_log += log_every;
            logger.record("charts/episodic_return", window.mean(|e| e.ret));
            logger.record(
                "charts/episodic_length",
                window.mean(|e| f64::from(e.length)),
            );
            logger.record(
                "charts/success_rate",
                window.mean(|e| f64::from(u8::from(e.success_at_end))),
            );
            logger.record(
                "charts/SPS",
                global_step as f64 / start.elapsed().as_secs_f64(),
            );
            logger.dump(global_step).map_err(TrainError::Log)?;
        }
    }
    logger.finish().map_err(TrainError::Log)?;
    Ok(BaselineSummary {
        global_step,
        seconds: start.elapsed().as_secs_f64(),
        window,
    })
}
