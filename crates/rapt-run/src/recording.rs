//! Camera views of episodes as files: each view's frames as
//! `OUT/VIEW/epNNN_stepNNNN.png` and all of them as an animated `OUT/VIEW.gif`, plus
//! `OUT/episodes.json` (what each recorded episode was and what it scored). Episodes come
//! from one env with any actor ([`record_episodes`], `rapt render`) or from an evaluation
//! of a policy on a vector env ([`EvalRecorder`], `rapt eval --record`), which records
//! the very episodes the evaluation counts.

use std::path::{Path, PathBuf};

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame as GifFrame, RgbImage, RgbaImage};
use rapt_core::{Env, FrameSpec, rng_from_seed};
use rapt_ppo::{Actor, EvalStep, TrainError, run_episode};
use serde::Serialize;

use crate::RunError;

/// Enlargement of GIF frames over the rendered size.
const GIF_SCALE: u32 = 4;

/// One recorded episode, as `episodes.json` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedEpisode {
    /// Its number in the file names (`epNNN`).
    pub number: usize,
    /// The sub-env that ran it (0 for a single env).
    pub env: usize,
    /// Its index among that sub-env's episodes.
    pub index: u32,
    /// The reset seed, for episodes started from one (a sub-env's first episode).
    pub seed: Option<u64>,
    /// Undiscounted return of the env's reward.
    #[serde(rename = "return")]
    pub ret: f64,
    /// Steps.
    pub length: u32,
    /// Frames per view (length + 1: the first state and every step's).
    pub frames: usize,
}

/// What a recording wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recording {
    /// The views, in order.
    pub views: Vec<String>,
    /// Frame size, px.
    pub size: usize,
    /// The episodes.
    pub episodes: Vec<RecordedEpisode>,
    /// The GIF of each view.
    #[serde(skip)]
    pub gifs: Vec<PathBuf>,
}

/// Frames being written: PNGs as they come, GIFs at the end.
#[derive(Debug)]
struct FrameWriter {
    out: PathBuf,
    views: Vec<String>,
    size: usize,
    gif_frames: Vec<Vec<RgbImage>>,
}

impl FrameWriter {
    fn new(out: &Path, views: &[String], size: usize) -> Self {
        Self {
            out: out.to_path_buf(),
            views: views.to_vec(),
            size,
            gif_frames: vec![Vec::new(); views.len()],
        }
    }

    /// Episode `number`'s frame at `step` of every view, `size × size × 3` RGB bytes
    /// each, side by side in `rgb`.
    fn push(&mut self, number: usize, step: u32, rgb: &[u8]) -> Result<(), RunError> {
        let per_view = self.size * self.size * 3;
        for (v, view) in self.views.iter().enumerate() {
            let bytes = rgb[v * per_view..(v + 1) * per_view].to_vec();
            let side = self.size as u32;
            let image = RgbImage::from_raw(side, side, bytes)
                .ok_or_else(|| RunError::Invalid(format!("a `{view}` frame has the wrong size")))?;
            let dir = self.out.join(view);
            std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
            write_png(
                &dir.join(format!("ep{number:03}_step{step:04}.png")),
                &image,
            )?;
            self.gif_frames[v].push(image);
        }
        Ok(())
    }

    /// Write the GIFs and `episodes.json`.
    fn finish(self, mut episodes: Vec<RecordedEpisode>) -> Result<Recording, RunError> {
        episodes.sort_by_key(|e| e.number);
        let mut gifs = Vec::new();
        for (view, frames) in self.views.iter().zip(&self.gif_frames) {
            let path = self.out.join(format!("{view}.gif"));
            write_gif(&path, frames)?;
            gifs.push(path);
        }
        let recording = Recording {
            views: self.views,
            size: self.size,
            episodes,
            gifs,
        };
        let json = serde_json::to_vec_pretty(&recording)
            .map_err(|e| RunError::Invalid(format!("serializing episodes.json: {e}")))?;
        rapt_rundir::write_atomic(&self.out.join("episodes.json"), &json)
            .map_err(|e| RunError::Invalid(e.to_string()))?;
        Ok(recording)
    }
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> RunError {
    move |source| RunError::Io { what, source }
}

/// Run one episode of `env` per seed in `seeds` with `actor`, recording `views` at
/// `size` px into `out`.
pub fn record_episodes(
    env: &mut Box<dyn Env>,
    actor: &mut Actor,
    views: &[String],
    size: usize,
    seeds: &[u64],
    out: &Path,
) -> Result<Recording, RunError> {
    let mut rng = rng_from_seed(seeds.first().copied().unwrap_or(0) ^ 0x4E7);
    let mut writer = FrameWriter::new(out, views, size);
    let mut episodes = Vec::new();
    let (mut rgb, mut frame) = (Vec::new(), Vec::new());
    for (number, &seed) in seeds.iter().enumerate() {
        let mut frames = 0;
        let stats = run_episode(env, actor, seed, &mut rng, |s| {
            frame.clear();
            for view in views {
                if !s.env.render(view, size, size, &mut rgb) {
                    return Err(TrainError::Invalid(format!("rendering `{view}` failed")));
                }
                frame.extend_from_slice(&rgb);
            }
            frames += 1;
            writer
                .push(number, s.step, &frame)
                .map_err(|e| TrainError::Invalid(e.to_string()))
        })?;
        episodes.push(RecordedEpisode {
            number,
            env: 0,
            index: 0,
            seed: Some(seed),
            ret: stats.ret,
            length: stats.length,
            frames,
        });
    }
    writer.finish(episodes)
}

/// Records the first `episodes` episodes an evaluation counts (in seed order: every
/// sub-env's first episode, then the second of the sub-envs that run two, ...) from the frames the vector
/// env renders: hand [`EvalRecorder::observe`] to `rapt_ppo::evaluate_policy_observed`
/// after `venv.set_frames(Some(recorder.frame_spec()))`.
#[derive(Debug)]
pub struct EvalRecorder {
    writer: FrameWriter,
    spec: FrameSpec,
    episodes: usize,
    /// Per sub-env: (number, return so far, frames) of the episode being recorded.
    running: Vec<Option<(usize, f64, usize)>>,
    done: Vec<RecordedEpisode>,
    seed_base: u64,
}

impl EvalRecorder {
    /// Record `episodes` episodes' `views` at `size` px into `out`; sub-env `i`'s first
    /// episode started from seed `seed_base + i`.
    pub fn new(out: &Path, views: &[String], size: usize, episodes: usize, seed_base: u64) -> Self {
        Self {
            writer: FrameWriter::new(out, views, size),
            spec: FrameSpec {
                views: views.to_vec(),
                size,
            },
            episodes,
            running: Vec::new(),
            done: Vec::new(),
            seed_base,
        }
    }

    /// The frames the vector env must render.
    pub fn frame_spec(&self) -> FrameSpec {
        self.spec.clone()
    }

    /// The recording number of sub-env `env`'s episode `index` when it is recorded: the
    /// evaluated episodes in seed order (every sub-env's first, then the second of those
    /// that run two, ...), the first `self.episodes` of them.
    fn number(&self, env: usize, index: u32, counted: &[u32]) -> Option<usize> {
        if index >= counted[env] {
            return None;
        }
        let before: usize = counted
            .iter()
            .map(|&c| c.min(index) as usize)
            .sum::<usize>()
            + counted[..env].iter().filter(|&&c| c > index).count();
        (before < self.episodes).then_some(before)
    }

    /// The observer for `evaluate_policy_observed`.
    pub fn observe(&mut self, s: EvalStep<'_>) -> Result<(), TrainError> {
        let b = s.batch;
        let n = b.num_envs;
        if self.running.len() != n {
            self.running = vec![None; n];
        }
        let fail = |e: RunError| TrainError::Invalid(e.to_string());
        for i in 0..n {
            if s.step == 0 {
                self.running[i] = self.number(i, 0, s.counted).map(|k| (k, 0.0, 0));
                if let Some((k, _, frames)) = &mut self.running[i] {
                    self.writer.push(*k, 0, b.frames_of(i)).map_err(fail)?;
                    *frames += 1;
                }
                continue;
            }
            if let Some((k, ret, frames)) = &mut self.running[i] {
                *ret += f64::from(b.rewards[i]);
                let last = if b.ended[i] {
                    b.final_frames_of(i)
                } else {
                    b.frames_of(i)
                };
                self.writer.push(*k, *frames as u32, last).map_err(fail)?;
                *frames += 1;
                if b.ended[i] {
                    let (number, ret, frames) = (*k, *ret, *frames);
                    let index = s.index[i];
                    self.done.push(RecordedEpisode {
                        number,
                        env: i,
                        index,
                        seed: (index == 0).then_some(self.seed_base + i as u64),
                        ret,
                        length: frames as u32 - 1,
                        frames,
                    });
                    self.running[i] = None;
                }
            }
            if b.ended[i] {
                // The sub-env's next episode starts in this row.
                let next = s.index[i] + 1;
                self.running[i] = self.number(i, next, s.counted).map(|k| (k, 0.0, 0));
                if let Some((k, _, frames)) = &mut self.running[i] {
                    self.writer.push(*k, 0, b.frames_of(i)).map_err(fail)?;
                    *frames += 1;
                }
            }
        }
        Ok(())
    }

    /// Write the GIFs and `episodes.json`.
    pub fn finish(self) -> Result<Recording, RunError> {
        self.writer.finish(self.done)
    }
}

/// Write `image` to `path` as a PNG, atomically, with every write error reported.
fn write_png(path: &Path, image: &RgbImage) -> Result<(), RunError> {
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .map_err(|e| RunError::Invalid(format!("encoding {}: {e}", path.display())))?;
    rapt_rundir::write_atomic(path, &bytes).map_err(|e| RunError::Invalid(e.to_string()))
}

/// An animated GIF of `frames` at 10 frames/s, each enlarged `GIF_SCALE`×, written
/// atomically.
fn write_gif(path: &Path, frames: &[RgbImage]) -> Result<(), RunError> {
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut bytes, 10);
        let failed =
            |e: image::ImageError| RunError::Invalid(format!("encoding {}: {e}", path.display()));
        encoder.set_repeat(Repeat::Infinite).map_err(failed)?;
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
                .map_err(failed)?;
        }
    }
    rapt_rundir::write_atomic(path, &bytes).map_err(|e| RunError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluated_episodes_are_numbered_in_seed_order() {
        let recorder = EvalRecorder::new(Path::new("unused"), &["front".into()], 8, 5, 0);
        // 6 episodes on 4 sub-envs: sub-envs 2 and 3 run two each.
        let counted = [1, 1, 2, 2];
        let numbers: Vec<Option<usize>> = [(0, 0), (1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (0, 1)]
            .iter()
            .map(|&(env, index)| recorder.number(env, index, &counted))
            .collect();
        assert_eq!(
            numbers,
            [Some(0), Some(1), Some(2), Some(3), Some(4), None, None]
        );
    }
}
