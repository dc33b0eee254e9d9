//! Recording datasets: episodes of a registered env with multi-view frames labelled with
//! its oracle progress (Φ, stage, progress within the stage, success) at every state.

use rand::Rng as _;
use rapt_core::{Env, Rng, rng_from_seed};
use rapt_ppo::{Actor, TrainError, run_episode};
use thiserror::Error;

use crate::dataset::FORMAT;
use crate::{DatasetError, DatasetWriter, Episode, EpisodeHeader, EpisodeKind, Manifest};

/// Action noise of the perturbed expert, as a fraction of each action's half-range.
pub const PERTURB_NOISE: f32 = 0.4;
/// Chance per step that the perturbed expert acts at random instead.
pub const PERTURB_RANDOM: f64 = 0.1;

/// Why recording failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The env cannot be recorded as asked.
    #[error("{0}")]
    Invalid(String),
    /// Running an episode failed.
    #[error(transparent)]
    Episode(#[from] TrainError),
    /// Writing the dataset failed.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
}

/// Who acts in recorded episodes.
#[derive(Debug)]
pub enum RecordPolicy {
    /// The scripted expert.
    Expert,
    /// Random actions.
    Random,
    /// Per episode: 40% expert, 40% perturbed expert, 20% random.
    Mixed,
    /// A trained policy ([`Actor::Policy`]).
    Policy(Actor),
}

/// What to record.
#[derive(Debug)]
pub struct DatasetRecordOptions {
    /// Who acts.
    pub policy: RecordPolicy,
    /// Episodes (seeds `seed`, `seed + 1`, …).
    pub episodes: u32,
    /// Seed of the first episode.
    pub seed: u64,
    /// Per successful episode, the chance of also storing a copy cut before it
    /// succeeded (negative augmentation), in [0, 1].
    pub clip_fraction: f64,
}

impl RecordSummary {
    /// One line: what was recorded, how much, where.
    pub fn describe(
        &self,
        manifest: &crate::Manifest,
        episodes: u32,
        out: &std::path::Path,
    ) -> String {
        format!(
            "{}: {episodes} episodes ({} successful) + {} clipped copies, {} frame sets of {} views at {}×{} px → {}",
            manifest.env,
            self.successes,
            self.clipped,
            self.frame_sets,
            manifest.views.join(","),
            manifest.size,
            manifest.size,
            out.display()
        )
    }
}

/// What was recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordSummary {
    /// Episodes that ended in success.
    pub successes: u32,
    /// Clipped copies stored.
    pub clipped: u32,
    /// Frame sets stored (one per state), clipped copies not counted.
    pub frame_sets: usize,
}

/// The manifest of a dataset of `env` (registered as `id` with `params`) with `views` at
/// `size` px; fails when the env has no oracle progress to label frames with.
pub fn manifest_for(
    env: &dyn Env,
    id: &str,
    params: &str,
    views: Vec<String>,
    size: usize,
) -> Result<Manifest, RecordError> {
    if env.progress().is_none() && env.info_layout().metric_index("phi").is_none() {
        return Err(RecordError::Invalid(format!(
            "`{id}` has no oracle progress Φ to label frames with"
        )));
    }
    let stages = match env.stages() {
        [] => vec!["progress".to_string()],
        s => s.iter().map(|s| s.to_string()).collect(),
    };
    Ok(Manifest {
        format: FORMAT,
        env: id.to_string(),
        params: params.to_string(),
        views,
        size,
        stages,
    })
}

/// Record `options.episodes` episodes of `env` into `writer` (whose manifest says which
/// views at which size), calling `on_episode` after each.
pub fn record_dataset(
    env: &mut Box<dyn Env>,
    writer: &mut DatasetWriter,
    options: &mut DatasetRecordOptions,
    mut on_episode: impl FnMut(&Episode),
) -> Result<RecordSummary, RecordError> {
    let (views, size) = (writer.manifest().views.clone(), writer.manifest().size);
    // The same seeds would record the same episodes again.
    let end = options.seed + u64::from(options.episodes);
    let taken = writer.recorded_seeds()?;
    if let Some(&first) = taken.range(options.seed..end).next() {
        let next = taken.last().map_or(0, |s| s + 1);
        return Err(RecordError::Invalid(format!(
            "the dataset already holds an episode from seed {first} (seeds {}..{end} asked for): \
             they would be recorded again identically; add new ones with --seed {next}",
            options.seed
        )));
    }
    let mut rng = rng_from_seed(options.seed ^ 0x005E_C04D);
    let mut summary = RecordSummary::default();
    for k in 0..u64::from(options.episodes) {
        let seed = options.seed + k;
        let kind = match options.policy {
            RecordPolicy::Expert => EpisodeKind::Expert,
            RecordPolicy::Random => EpisodeKind::Random,
            RecordPolicy::Mixed => match rng.random_range(0.0..1.0) {
                x if x < 0.4 => EpisodeKind::Expert,
                x if x < 0.8 => EpisodeKind::PerturbedExpert,
                _ => EpisodeKind::Random,
            },
            RecordPolicy::Policy(_) => EpisodeKind::Policy,
        };
        let mut scripted = match kind {
            EpisodeKind::Random => Actor::Random,
            EpisodeKind::PerturbedExpert => Actor::PerturbedExpert {
                noise: PERTURB_NOISE,
                p_random: PERTURB_RANDOM,
            },
            _ => Actor::Expert,
        };
        let actor = match &mut options.policy {
            RecordPolicy::Policy(policy) => policy,
            _ => &mut scripted,
        };
        let ep = record_episode(env, actor, kind, &views, size, seed, &mut rng)?;
        summary.frame_sets += ep.header.steps;
        writer.append(&ep)?;
        if ep.header.success {
            summary.successes += 1;
            // Negative augmentation: the same episode cut before its first success.
            if rng.random_range(0.0..1.0) < options.clip_fraction
                && let Some(first) = ep.success.iter().position(|&s| s)
                && first >= 4
            {
                let cut = rng.random_range(first / 4..first * 3 / 4).max(2);
                let fsb = writer.manifest().frame_set_bytes();
                writer.append(&ep.clipped(cut, fsb, EpisodeKind::Clipped))?;
                summary.clipped += 1;
            }
        }
        on_episode(&ep);
    }
    Ok(summary)
}

/// One episode from reset `seed`, with frames and labels at every state.
pub fn record_episode(
    env: &mut Box<dyn Env>,
    actor: &mut Actor,
    kind: EpisodeKind,
    views: &[String],
    size: usize,
    seed: u64,
    rng: &mut Rng,
) -> Result<Episode, RecordError> {
    let n_stages = env.stages().len().max(1);
    let stage_metric = env.info_layout().metric_index("stage");
    let phi_metric = env.info_layout().metric_index("phi");
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
    run_episode(env, actor, seed, rng, |s| {
        for view in views {
            if !s.env.render(view, size, size, &mut rgb) {
                return Err(TrainError::Invalid(format!("rendering `{view}` failed")));
            }
            ep.frames.extend_from_slice(&rgb);
        }
        let metrics = s.buffers.info.metrics_of(0);
        let phi = s
            .env
            .progress()
            .or(phi_metric.map(|k| metrics[k]))
            .ok_or_else(|| TrainError::Invalid("the env stopped reporting Φ".into()))?
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
        ep.success.push(s.buffers.info.success[0]);
        Ok(())
    })?;
    ep.header.steps = ep.phi.len();
    ep.header.success = ep.success.last().copied().unwrap_or(false);
    Ok(ep)
}
