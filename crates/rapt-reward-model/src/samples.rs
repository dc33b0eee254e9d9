//! A dataset's episodes as training tensors: one frame set per row.

use tch::{Device, Kind, Tensor};

use crate::dataset::{Episode, Manifest};

/// Frame sets and their labels, one row each, rows of an episode contiguous.
#[derive(Debug)]
pub struct Samples {
    /// `[N, V, S, S, 3]` u8 frames.
    pub frames: Tensor,
    /// `[N]` oracle Φ.
    pub phi: Tensor,
    /// `[N]` stage index (i64; `stages` = done).
    pub stage: Tensor,
    /// `[N]` progress within the stage.
    pub stage_progress: Tensor,
    /// `[N]` i64 task index of each row, for task-conditioned models (`None`: one task).
    pub task: Option<Tensor>,
    /// Row range of each episode.
    pub episodes: Vec<std::ops::Range<usize>>,
}

impl Samples {
    /// Stack `episodes` (all recorded under `manifest`) onto `device`.
    pub fn new(manifest: &Manifest, episodes: &[&Episode], device: Device) -> Self {
        Self::for_task(manifest, episodes, None, device)
    }

    /// As [`Samples::new`], every row labelled with the task index `task` for a
    /// task-conditioned model (`None`: no task column).
    pub fn for_task(
        manifest: &Manifest,
        episodes: &[&Episode],
        task: Option<i64>,
        device: Device,
    ) -> Self {
        let n: usize = episodes.iter().map(|e| e.header.steps).sum();
        let fsb = manifest.frame_set_bytes();
        let (mut frames, mut phi, mut stage, mut progress) = (
            Vec::with_capacity(n * fsb),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut ranges = Vec::with_capacity(episodes.len());
        for ep in episodes {
            let start = phi.len();
            frames.extend_from_slice(&ep.frames);
            phi.extend_from_slice(&ep.phi);
            stage.extend(ep.stage.iter().map(|&s| i64::from(s)));
            progress.extend_from_slice(&ep.stage_progress);
            ranges.push(start..phi.len());
        }
        let s = manifest.size as i64;
        let v = manifest.views.len() as i64;
        Self {
            frames: Tensor::from_slice(&frames)
                .reshape([n as i64, v, s, s, 3])
                .to_device(device),
            phi: Tensor::from_slice(&phi).to_device(device),
            stage: Tensor::from_slice(&stage).to_device(device),
            stage_progress: Tensor::from_slice(&progress).to_device(device),
            task: task.map(|t| Tensor::full([n as i64], t, (Kind::Int64, device))),
            episodes: ranges,
        }
    }

    /// The rows of every part in order, as one set (episode ranges shifted to match).
    /// The parts must agree on having a task column.
    pub fn concat(parts: Vec<Samples>) -> Samples {
        if parts.len() == 1 {
            return parts.into_iter().next().expect("one part");
        }
        let cat = |f: &dyn Fn(&Samples) -> &Tensor| {
            Tensor::cat(&parts.iter().map(f).collect::<Vec<_>>(), 0)
        };
        let mut episodes = Vec::new();
        let mut offset = 0;
        for part in &parts {
            episodes.extend(
                part.episodes
                    .iter()
                    .map(|r| r.start + offset..r.end + offset),
            );
            offset += part.len();
        }
        let task = parts
            .iter()
            .map(|p| p.task.as_ref())
            .collect::<Option<Vec<_>>>()
            .map(|t| Tensor::cat(&t, 0));
        Samples {
            frames: cat(&|p| &p.frames),
            phi: cat(&|p| &p.phi),
            stage: cat(&|p| &p.stage),
            stage_progress: cat(&|p| &p.stage_progress),
            task,
            episodes,
        }
    }

    /// Number of frame sets.
    pub fn len(&self) -> usize {
        self.phi.size()[0] as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows `idx` (`[B]` i64 on the samples' device).
    pub fn batch(&self, idx: &Tensor) -> FrameBatch {
        FrameBatch {
            frames: self.frames.index_select(0, idx),
            phi: self.phi.index_select(0, idx),
            stage: self.stage.index_select(0, idx),
            stage_progress: self.stage_progress.index_select(0, idx),
            task: self.task.as_ref().map(|t| t.index_select(0, idx)),
        }
    }

    /// Rows `start..end` without copying.
    pub fn range(&self, start: usize, end: usize) -> FrameBatch {
        let (s, e) = (start as i64, end as i64);
        FrameBatch {
            frames: self.frames.slice(0, s, e, 1),
            phi: self.phi.slice(0, s, e, 1),
            stage: self.stage.slice(0, s, e, 1),
            stage_progress: self.stage_progress.slice(0, s, e, 1),
            task: self.task.as_ref().map(|t| t.slice(0, s, e, 1)),
        }
    }
}

/// A minibatch of rows.
#[derive(Debug)]
pub struct FrameBatch {
    /// `[B, V, S, S, 3]` u8.
    pub frames: Tensor,
    /// `[B]` f32.
    pub phi: Tensor,
    /// `[B]` i64.
    pub stage: Tensor,
    /// `[B]` f32.
    pub stage_progress: Tensor,
    /// `[B]` i64 task index, for task-conditioned models.
    pub task: Option<Tensor>,
}

/// `[B, V]` view mask that drops each view with probability `p`, keeping at least one per
/// row.
pub fn view_dropout_mask(b: i64, v: i64, p: f64, device: Device) -> Tensor {
    let keep = Tensor::rand([b, v], (Kind::Float, device)).ge(p);
    // Rows that lost every view keep one chosen at random.
    let none = keep.sum_dim_intlist(1, false, Kind::Int64).eq(0);
    let pick = Tensor::randint(v, [b], (Kind::Int64, device))
        .one_hot(v)
        .to_kind(Kind::Bool);
    let rescue = pick.logical_and(&none.unsqueeze(1));
    keep.logical_or(&rescue).to_kind(Kind::Float)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_dropout_always_keeps_a_view() {
        tch::manual_seed(3);
        let m = view_dropout_mask(1000, 3, 0.9, Device::Cpu);
        let per_row = m.sum_dim_intlist(1, false, Kind::Float);
        assert_eq!(per_row.min().double_value(&[]), 1.0);
        let kept = m.mean(Kind::Float).double_value(&[]);
        assert!(kept > 0.1 && kept < 0.6, "{kept}");
    }
}
