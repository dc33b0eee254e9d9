//! Reward shaping of a vector env's rollouts: Φ from the run's progress model for every
//! transition, `r + γkΦ(s') − kΦ(s)` (or the semantic-trap ablation `r + kΦ(s')`), with
//! Φ(terminal) = 0 on `terminated` and the real Φ of the final state on truncation.
//!
//! Models that read the env's privileged Φ are scored inline at each step. Models that
//! read camera frames are scored on their own thread while the envs keep stepping: each
//! step's frames (the current states, then the final states of the episodes that ended)
//! go to the scorer as the step returns, and [`Shaper::finish`] joins the scores into the
//! rollout's rewards before advantages are computed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rapt_core::{Batch, FrameSpec, InfoLayout};
use thiserror::Error;

use crate::{
    ModelLoader, ModelStats, PotentialShaping, ProgressInput, ProgressModel, RewardError, Row,
    Shaping, ShapingConfigError, progress_as_reward,
};

/// Why shaping failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ShaperError {
    /// The shaping config does not fit the run (γ, model, env).
    #[error("shaping: {0}")]
    Config(#[from] ShapingConfigError),
    /// The env cannot feed the model.
    #[error("shaping: {0}")]
    Env(String),
    /// The model failed to score a batch.
    #[error("scoring progress: {0}")]
    Score(#[from] RewardError),
    /// The scoring thread could not start or stopped.
    #[error("the scoring thread {0}")]
    Thread(String),
    /// A stop was asked (the stop flag set) while scores were awaited.
    #[error("stopped while waiting for progress scores")]
    Stopped,
}

/// How often a wait for scores looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);

type Result<T, E = ShaperError> = std::result::Result<T, E>;

/// Means of the shaping's parts over the transitions since the last `take`.
#[derive(Debug, Clone, Default)]
pub struct ShapingStats {
    /// The env's reward.
    pub base: f64,
    /// The shaping term.
    pub shaping: f64,
    /// Φ(s').
    pub phi: f64,
    /// The progress model's counters (e.g. `remote_failures`, `remote_latency_ms`), pooled
    /// over the batches scored since the last `take`.
    pub model: Vec<(&'static str, f64)>,
}

/// What one step needs to be shaped once its scores are known.
#[derive(Debug)]
struct PendingStep {
    /// Where the step's rewards start in the rollout.
    reward_at: usize,
    terminated: Vec<bool>,
    /// Envs whose episode ended (their final frames follow the current ones).
    ended: Vec<usize>,
}

/// A frame batch to score (frames and what each row is), and the scores coming back
/// with the model's counters.
struct Scorer {
    jobs: Option<Sender<(Vec<u8>, Vec<Row>)>>,
    scores: Receiver<(Result<Vec<f32>, RewardError>, ModelStats)>,
    handle: Option<JoinHandle<()>>,
    /// The model's counters received since the last `take`.
    stats: ModelStats,
}

impl Scorer {
    fn spawn(mut model: Box<dyn ProgressModel>, task: String) -> Result<Self> {
        let (jobs, job_rx) = channel::<(Vec<u8>, Vec<Row>)>();
        let (score_tx, scores) = channel();
        let merge = model.merges_batches();
        let handle = std::thread::Builder::new()
            .name("rapt-scorer".into())
            .spawn(move || {
                while let Ok(first) = job_rx.recv() {
                    // A model that allows it scores every step waiting so far in one call.
                    let mut jobs = vec![first];
                    while merge && let Ok(job) = job_rx.try_recv() {
                        jobs.push(job);
                    }
                    let sizes: Vec<usize> = jobs.iter().map(|j| j.1.len()).collect();
                    let (frames, rows) = if jobs.len() == 1 {
                        jobs.pop().expect("one job")
                    } else {
                        jobs.into_iter()
                            .fold((Vec::new(), Vec::new()), |mut all, (f, r)| {
                                all.0.extend_from_slice(&f);
                                all.1.extend_from_slice(&r);
                                all
                            })
                    };
                    let out = model
                        .score(&ProgressInput {
                            n: rows.len(),
                            task: &task,
                            privileged: None,
                            frames: Some(&frames),
                            rows: Some(&rows),
                        })
                        .map(|s| s.phi);
                    let mut stats = model.take_stats();
                    let mut at = 0;
                    for n in sizes {
                        let part = out
                            .as_ref()
                            .map(|phi| phi[at..at + n].to_vec())
                            .map_err(Clone::clone);
                        at += n;
                        if score_tx.send((part, std::mem::take(&mut stats))).is_err() {
                            return;
                        }
                    }
                }
            })
            .map_err(|e| ShaperError::Thread(format!("could not start: {e}")))?;
        Ok(Self {
            jobs: Some(jobs),
            scores,
            handle: Some(handle),
            stats: Vec::new(),
        })
    }

    fn send(&self, frames: Vec<u8>, rows: Vec<Row>) -> Result<()> {
        self.jobs
            .as_ref()
            .ok_or(ShaperError::Stopped)?
            .send((frames, rows))
            .map_err(|_| ShaperError::Thread("stopped".into()))
    }

    /// The next batch's scores; [`ShaperError::Stopped`] once `stop` is set while
    /// waiting (the scorer is then abandoned).
    fn recv(&mut self, stop: Option<&AtomicBool>) -> Result<Vec<f32>> {
        let (phi, stats) = loop {
            match self.scores.recv_timeout(STOP_POLL) {
                Ok(scored) => break scored,
                Err(RecvTimeoutError::Timeout) => {
                    if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                        self.abandon();
                        return Err(ShaperError::Stopped);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(ShaperError::Thread("stopped".into()));
                }
            }
        };
        self.stats.extend(stats);
        phi.map_err(ShaperError::Score)
    }

    /// Stop waiting for the scoring thread: its work in hand is dropped and the thread is
    /// left to end on its own (a model waiting on a hung server must not hold the run).
    fn abandon(&mut self) {
        self.jobs.take();
        self.handle.take();
    }
}

impl Drop for Scorer {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Where Φ comes from.
enum Source {
    /// The env's `phi` metric, through a model that reads privileged state.
    Inline {
        model: Box<dyn ProgressModel>,
        phi_column: usize,
        privileged: Vec<f32>,
    },
    /// Camera frames, scored on another thread.
    Frames {
        scorer: Scorer,
        spec: FrameSpec,
        pending: Vec<PendingStep>,
    },
}

/// Shapes a vector env's rewards as the run config says.
pub struct Shaper {
    potential: Option<PotentialShaping>,
    source: Source,
    model_name: String,
    task: String,
    /// Weight k of Φ in the shaping.
    scale: f32,
    /// Φ of each env's current state.
    phi_prev: Vec<f32>,
    sums: (f64, f64, f64, u64),
    /// Set when the run is asked to stop: waits for scores end ([`Shaper::set_stop_flag`]).
    stop: Option<Arc<AtomicBool>>,
}

impl std::fmt::Debug for Shaper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shaper")
            .field("model", &self.model_name)
            .field("potential", &self.potential)
            .finish_non_exhaustive()
    }
}

impl Shaper {
    /// The shaper for `shaping` on an env `env_id` with info `layout`, learner discount
    /// `gamma`; `None` when the run is not shaped. Learned and remote models are loaded
    /// with `load` (the crate that links their runtime supplies it). For models that read
    /// frames, the returned [`FrameSpec`] must be passed to the vector env's `set_frames`
    /// before its first reset.
    pub fn new(
        shaping: &Shaping,
        env_id: &str,
        layout: &InfoLayout,
        gamma: f32,
        load: ModelLoader<'_>,
    ) -> Result<Option<(Self, Option<FrameSpec>)>> {
        Self::for_task(shaping, env_id, env_id, layout, gamma, load)
    }

    /// As [`Shaper::new`], with the task in words that language-conditioned models read
    /// (`task`; the env id when empty).
    pub fn for_task(
        shaping: &Shaping,
        env_id: &str,
        task: &str,
        layout: &InfoLayout,
        gamma: f32,
        load: ModelLoader<'_>,
    ) -> Result<Option<(Self, Option<FrameSpec>)>> {
        let task = if task.is_empty() { env_id } else { task };
        let Some(spec) = shaping.model() else {
            return Ok(None);
        };
        shaping.check(gamma)?;
        let model = spec.build_with(load)?;
        let model_name = model.name();
        let (source, frames) = if model.needs_frames() {
            let Some((views, size)) = model.views() else {
                return Err(ShaperError::Env(format!(
                    "`{model_name}` needs frames but names no views"
                )));
            };
            let spec = FrameSpec { views, size };
            let scorer = Scorer::spawn(model, task.to_string())?;
            (
                Source::Frames {
                    scorer,
                    spec: spec.clone(),
                    pending: Vec::new(),
                },
                Some(spec),
            )
        } else {
            let Some(phi_column) = layout.metric_index("phi") else {
                return Err(ShaperError::Env(format!(
                    "the progress model reads the env's privileged progress, and `{env_id}` reports no `phi` metric"
                )));
            };
            (
                Source::Inline {
                    model,
                    phi_column,
                    privileged: Vec::new(),
                },
                None,
            )
        };
        let potential =
            matches!(shaping, Shaping::Potential { .. }).then_some(PotentialShaping { gamma });
        Ok(Some((
            Self {
                potential,
                source,
                model_name,
                task: task.to_string(),
                scale: shaping.scale(),
                phi_prev: Vec::new(),
                sums: (0.0, 0.0, 0.0, 0),
                stop: None,
            },
            frames,
        )))
    }

    /// The shaper for `shaping` on `venv` (an env `env_id`), as [`Shaper::new`] with the
    /// envs' task in words; a model that reads frames has `venv` render its camera views
    /// from its next reset on.
    pub fn for_vec_env(
        shaping: &Shaping,
        env_id: &str,
        venv: &mut dyn rapt_core::VecEnv,
        gamma: f32,
        load: ModelLoader<'_>,
    ) -> Result<Option<Self>> {
        let Some((shaper, frames)) = Self::new(shaping, env_id, venv.info_layout(), gamma, load)?
        else {
            return Ok(None);
        };
        if frames.is_some() {
            venv.set_frames(frames).map_err(|e| {
                ShaperError::Env(format!("rendering the progress model's camera views: {e}"))
            })?;
        }
        Ok(Some(shaper))
    }

    /// Waits for scores look at `flag` (every 50 ms): once it is set, [`Shaper::finish`]
    /// stops waiting and holds Φ for the steps still unscored, and [`Shaper::reset`] fails
    /// with [`ShaperError::Stopped`], whatever the model is doing.
    pub fn set_stop_flag(&mut self, flag: Arc<AtomicBool>) {
        self.stop = Some(flag);
    }

    /// Whether Φ comes from camera frames (the vector env renders them).
    pub fn reads_frames(&self) -> bool {
        matches!(self.source, Source::Frames { .. })
    }

    fn score_inline(&mut self, info: &rapt_core::InfoBatch, n: usize) -> Result<Vec<f32>> {
        let Source::Inline {
            model,
            phi_column,
            privileged,
        } = &mut self.source
        else {
            unreachable!("inline scoring of a frame model");
        };
        privileged.clear();
        privileged.extend((0..n).map(|i| info.metrics_of(i)[*phi_column]));
        let scores = model.score(&ProgressInput {
            n,
            task: &self.task,
            privileged: Some(privileged),
            frames: None,
            rows: None,
        })?;
        Ok(scores.phi)
    }

    /// Record Φ of the states a reset produced.
    pub fn reset(&mut self, batch: &Batch) -> Result<()> {
        let n = batch.num_envs;
        self.phi_prev = match &mut self.source {
            Source::Inline { .. } => self.score_inline(&batch.info, n)?,
            Source::Frames { scorer, spec, .. } => {
                check_frames(batch, spec)?;
                scorer.send(batch.frames.clone(), (0..n).map(Row::First).collect())?;
                scorer.recv(self.stop.as_deref())?
            }
        };
        Ok(())
    }

    /// Shape the step that produced `batch`, whose rewards were appended to `rewards` at
    /// `reward_at`: now for inline models, in [`Shaper::finish`] for frame models (whose
    /// frames are handed to the scoring thread here).
    pub fn apply(&mut self, batch: &Batch, rewards: &mut [f32], reward_at: usize) -> Result<()> {
        let n = batch.num_envs;
        let ended: Vec<usize> = (0..n).filter(|&i| batch.ended[i]).collect();
        match &mut self.source {
            Source::Frames {
                scorer,
                spec,
                pending,
            } => {
                check_frames(batch, spec)?;
                let f = batch.frame_bytes;
                let mut frames = Vec::with_capacity((n + ended.len()) * f);
                frames.extend_from_slice(&batch.frames);
                for &i in &ended {
                    frames.extend_from_slice(batch.final_frames_of(i));
                }
                let rows = (0..n)
                    .map(|i| {
                        if batch.ended[i] {
                            Row::First(i)
                        } else {
                            Row::Next(i)
                        }
                    })
                    .chain(ended.iter().map(|&i| Row::Last(i)))
                    .collect();
                scorer.send(frames, rows)?;
                pending.push(PendingStep {
                    reward_at,
                    terminated: batch.terminated.clone(),
                    ended,
                });
                Ok(())
            }
            Source::Inline { .. } => {
                let now = self.score_inline(&batch.info, n)?;
                let mut next = now.clone();
                if !ended.is_empty() {
                    let finals = self.score_inline(&batch.final_info, n)?;
                    for &i in &ended {
                        next[i] = finals[i];
                    }
                }
                let r = &mut rewards[reward_at..reward_at + n];
                self.shape(r, &next, &batch.terminated);
                self.phi_prev = now;
                Ok(())
            }
        }
    }

    /// Join the scores of every step handed over since the last call and shape their
    /// rewards in `rewards` (the rollout's). A no-op for inline models.
    ///
    /// Once the stop flag is set ([`Shaper::set_stop_flag`]) it waits no more: the steps
    /// still unscored hold each env's last Φ (Φ(s') = Φ(s), an episode's first state 0, as
    /// for a score that never comes), and the scoring thread is abandoned, so a run stops
    /// within moments whatever its model or server does. Later steps then fail with
    /// [`ShaperError::Stopped`].
    pub fn finish(&mut self, rewards: &mut [f32]) -> Result<()> {
        let Source::Frames {
            scorer, pending, ..
        } = &mut self.source
        else {
            return Ok(());
        };
        let steps = std::mem::take(pending);
        let mut scored = Vec::with_capacity(steps.len());
        for _ in 0..steps.len() {
            match scorer.recv(self.stop.as_deref()) {
                Ok(phi) => scored.push(phi),
                Err(ShaperError::Stopped) => break,
                Err(e) => return Err(e),
            }
        }
        let mut scored = scored.into_iter();
        for step in steps {
            let n = step.terminated.len();
            let (now, next) = match scored.next() {
                Some(phi) => {
                    let now = phi[..n].to_vec();
                    let mut next = now.clone();
                    for (k, &i) in step.ended.iter().enumerate() {
                        next[i] = phi[n + k];
                    }
                    (now, next)
                }
                None => {
                    let next = self.phi_prev.clone();
                    let mut now = next.clone();
                    for &i in &step.ended {
                        now[i] = 0.0;
                    }
                    (now, next)
                }
            };
            let r = &mut rewards[step.reward_at..step.reward_at + n];
            self.shape(r, &next, &step.terminated);
            self.phi_prev = now;
        }
        Ok(())
    }

    /// Shape one step's rewards given Φ(s') per env.
    fn shape(&mut self, rewards: &mut [f32], next: &[f32], terminated: &[bool]) {
        let k = self.scale;
        for i in 0..rewards.len() {
            let shaped = match self.potential {
                Some(p) => p.shape(rewards[i], k * self.phi_prev[i], k * next[i], terminated[i]),
                None => progress_as_reward(rewards[i], k * next[i]),
            };
            self.sums.0 += f64::from(rewards[i]);
            self.sums.1 += f64::from(shaped.shaping);
            self.sums.2 += f64::from(next[i]);
            self.sums.3 += 1;
            rewards[i] = shaped.reward;
        }
    }

    /// Means since the last call, with the model's own counters.
    pub fn take(&mut self) -> ShapingStats {
        let (b, s, p, k) = std::mem::take(&mut self.sums);
        let k = k.max(1) as f64;
        let model = match &mut self.source {
            Source::Frames { scorer, .. } => std::mem::take(&mut scorer.stats),
            Source::Inline { model, .. } => model.take_stats(),
        };
        ShapingStats {
            base: b / k,
            shaping: s / k,
            phi: p / k,
            model: crate::pool_stats(&model),
        }
    }
}

fn check_frames(batch: &Batch, spec: &FrameSpec) -> Result<()> {
    if batch.frame_bytes != spec.bytes() {
        return Err(ShaperError::Env(format!(
            "the model needs {} bytes of frames per env ({:?} at {} px), the env batch has {}: call set_frames before reset",
            spec.bytes(),
            spec.views,
            spec.size,
            batch.frame_bytes
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use rapt_core::InfoLayout;

    use super::*;
    use crate::{ModelSpec, ProgressScores, RemoteProtocol, RemoteSpec};

    /// Φ = first frame byte / 255; counts its calls; lets the shaper merge steps.
    struct FirstByte(Arc<AtomicUsize>);

    impl ProgressModel for FirstByte {
        fn name(&self) -> String {
            "first-byte".into()
        }
        fn needs_frames(&self) -> bool {
            true
        }
        fn merges_batches(&self) -> bool {
            true
        }
        fn views(&self) -> Option<(Vec<String>, usize)> {
            Some((vec!["front".into()], 1))
        }
        fn score(&mut self, input: &ProgressInput<'_>) -> Result<ProgressScores, RewardError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            let frames = input.frames.unwrap();
            assert_eq!(input.rows.unwrap().len(), input.n);
            let phi = frames.chunks(3).map(|c| f32::from(c[0]) / 255.0).collect();
            Ok(ProgressScores {
                phi,
                uncertainty: None,
            })
        }
    }

    /// A remote spec reading one view at 8 px (the tests load their own model for it).
    fn remote_spec() -> ModelSpec {
        ModelSpec::Remote(RemoteSpec {
            url: "http://127.0.0.1:1/v1".into(),
            model: "m".into(),
            protocol: RemoteProtocol::Progress,
            views: vec!["front".into()],
            image_size: 8,
            timeout_ms: 1,
            max_in_flight: 1,
            retries: 0,
            api_key_env: None,
        })
    }

    #[test]
    fn merged_steps_are_split_back_and_shaped_as_one_by_one() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let spec = remote_spec();
        let shaping = Shaping::Potential {
            model: spec,
            gamma: None,
            scale: 1.0,
        };
        let load: ModelLoader<'_> = &|_| Ok(Box::new(FirstByte(counter.clone())));
        let layout = InfoLayout::default();
        let (mut shaper, frames) = Shaper::new(&shaping, "Test-v0", &layout, 0.5, load)
            .unwrap()
            .unwrap();
        assert_eq!(frames.unwrap().bytes(), 3);
        let mut batch = Batch::new(2, 1, &layout);
        batch.set_frame_bytes(3);
        batch.frames = vec![0, 0, 0, 51, 0, 0];
        shaper.reset(&batch).unwrap();
        // Ten steps handed over before joining: the scorer may take several per call.
        let mut rewards = vec![0.0; 20];
        let mut expected = vec![0.0; 20];
        let mut prev = [0.0f32, 0.2];
        for t in 0..10u8 {
            batch.frames = vec![t * 10, 0, 0, t * 20, 0, 0];
            shaper
                .apply(&batch, &mut rewards, usize::from(t) * 2)
                .unwrap();
            for i in 0..2 {
                let now = f32::from(batch.frames[i * 3]) / 255.0;
                expected[usize::from(t) * 2 + i] = 0.5 * now - prev[i];
                prev[i] = now;
            }
        }
        shaper.finish(&mut rewards).unwrap();
        for (got, want) in rewards.iter().zip(&expected) {
            assert!((got - want).abs() < 1e-6, "{rewards:?} vs {expected:?}");
        }
        assert!(calls.load(Ordering::SeqCst) <= 11);
    }

    /// Answers its first call (the reset's), then hangs for a minute per call.
    struct HangsAfterReset(usize);

    impl ProgressModel for HangsAfterReset {
        fn name(&self) -> String {
            "hangs".into()
        }
        fn needs_frames(&self) -> bool {
            true
        }
        fn views(&self) -> Option<(Vec<String>, usize)> {
            Some((vec!["front".into()], 1))
        }
        fn score(&mut self, input: &ProgressInput<'_>) -> Result<ProgressScores, RewardError> {
            self.0 += 1;
            if self.0 > 1 {
                std::thread::sleep(std::time::Duration::from_secs(60));
            }
            Ok(ProgressScores {
                phi: vec![0.5; input.n],
                uncertainty: None,
            })
        }
    }

    #[test]
    fn a_stop_ends_the_wait_for_a_hung_model_and_holds_phi() {
        let spec = remote_spec();
        let shaping = Shaping::Potential {
            model: spec,
            gamma: None,
            scale: 2.0,
        };
        let load: ModelLoader<'_> = &|_| Ok(Box::new(HangsAfterReset(0)));
        let layout = InfoLayout::default();
        let (mut shaper, _) = Shaper::new(&shaping, "Test-v0", &layout, 0.5, load)
            .unwrap()
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        shaper.set_stop_flag(stop.clone());
        let mut batch = Batch::new(2, 1, &layout);
        batch.set_frame_bytes(3);
        batch.frames = vec![9; 6];
        shaper.reset(&batch).unwrap();
        let mut rewards = vec![1.0; 6];
        for t in 0..3 {
            batch.ended = vec![t == 1, false];
            shaper.apply(&batch, &mut rewards, t * 2).unwrap();
        }
        let flag = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            flag.store(true, Ordering::SeqCst);
        });
        let t = std::time::Instant::now();
        shaper.finish(&mut rewards).unwrap();
        assert!(
            t.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            t.elapsed()
        );
        // Held Φ: Φ(s') = Φ(s) = 0.5 → r + 2(0.5·0.5 − 0.5); env 0's episode ended at
        // step 1, so its next step starts from Φ = 0 → r + 2(0.5·0 − 0) at step 2.
        assert_eq!(rewards, vec![0.5, 0.5, 0.5, 0.5, 1.0, 0.5]);
        assert!(matches!(
            shaper.apply(&batch, &mut rewards, 0),
            Err(ShaperError::Stopped)
        ));
    }
}
