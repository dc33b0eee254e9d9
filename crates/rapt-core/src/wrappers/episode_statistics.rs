use super::forward_spaces;
use crate::{Env, EnvError, EpisodeStats, InfoMut, StepOut};

/// Accumulates return, length and success flags and reports them in `info.episode` on
/// the last step of each episode (Gymnasium's `RecordEpisodeStatistics`, with
/// ManiSkill's `success_once` / `success_at_end`).
#[derive(Debug)]
pub struct EpisodeStatistics<E> {
    inner: E,
    running: EpisodeStats,
}

impl<E: Env> EpisodeStatistics<E> {
    /// Wrap `inner`.
    pub fn new(inner: E) -> Self {
        Self {
            inner,
            running: EpisodeStats::default(),
        }
    }
}

impl<E: Env> Env for EpisodeStatistics<E> {
    forward_spaces!();

    fn reset(
        &mut self,
        seed: Option<u64>,
        obs: &mut [f32],
        info: InfoMut<'_>,
    ) -> Result<(), EnvError> {
        self.running = EpisodeStats::default();
        *info.episode = None;
        self.inner.reset(seed, obs, info)
    }

    fn step(&mut self, action: &[f32], mut out: StepOut<'_>) -> Result<(), EnvError> {
        *out.info.episode = None;
        self.inner.step(action, out.reborrow())?;
        let s = &mut self.running;
        s.ret += f64::from(*out.reward);
        s.length += 1;
        s.success_once |= *out.info.success;
        s.success_at_end = *out.info.success;
        if *out.terminated || *out.truncated {
            s.terminated = *out.terminated;
            *out.info.episode = Some(*s);
        }
        Ok(())
    }
}
