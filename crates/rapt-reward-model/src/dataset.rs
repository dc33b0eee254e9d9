//! Recorded reward-model datasets: multi-view frames with progress labels, one file per
//! episode.
//!
//! # On-disk layout
//!
//! ```text
//! DATASET/
//!   dataset.json          manifest: format, env id, env params, views, frame size, stages
//!   episodes/
//!     ep-000000.rep       one episode each (below)
//!     ep-000001.rep
//! ```
//!
//! An episode file is written to `ep-NNNNNN.rep.tmp`, synced, then renamed: a crash or a
//! kill loses at most the episode in flight, and a second `rapt record` into the same
//! directory appends after the highest index (the manifest must match). Leftover `.tmp`
//! files are ignored by readers.
//!
//! An episode file is
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `RAPTEP01` |
//! | 4 | header length H, u32 little-endian |
//! | H | [`EpisodeHeader`] as JSON |
//! | T·V·S·S·3 | frames, u8 RGB, step-major then view, each `S × S × 3` row-major from the top |
//! | 4·T | oracle Φ per step, f32 LE |
//! | T | stage index per step, u8 |
//! | 4·T | progress within the stage per step, f32 LE |
//! | T | success per step, u8 (0 or 1) |
//! | 4 | CRC-32 of every byte before it, u32 LE |
//!
//! Step t holds the frames of state s_t and its labels; an episode of `steps` steps holds
//! the reset state and every state after it that the episode reached.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Version of the on-disk format.
pub const FORMAT: u32 = 1;
const MAGIC: &[u8; 8] = b"RAPTEP01";
const MANIFEST: &str = "dataset.json";
const EPISODES: &str = "episodes";
const EXT: &str = "rep";

/// What a dataset holds; every episode file agrees with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version ([`FORMAT`]).
    pub format: u32,
    /// Env id, e.g. `Push-v0`.
    pub env: String,
    /// The env's parameters (RON), as recorded.
    pub params: String,
    /// Camera views, in frame order.
    pub views: Vec<String>,
    /// Frame width and height, px.
    pub size: usize,
    /// The task's stage names, in order; Φ = (stage + progress in stage) / stages.
    pub stages: Vec<String>,
}

impl Manifest {
    /// Bytes of one step's frames (all views).
    pub fn frame_set_bytes(&self) -> usize {
        self.views.len() * self.size * self.size * 3
    }
}

/// How an episode was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EpisodeKind {
    /// The env's scripted expert.
    Expert,
    /// The expert with action noise and random stretches.
    PerturbedExpert,
    /// Uniformly random actions.
    Random,
    /// A trained policy.
    Policy,
    /// A single demonstration for one-shot adaptation (labels t/T).
    Demo,
    /// A copy of a successful episode cut before it succeeded (negative augmentation).
    Clipped,
}

/// Per-episode facts stored in the file's header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeHeader {
    /// The env seed of the episode's reset.
    pub seed: u64,
    /// Who acted.
    pub kind: EpisodeKind,
    /// Number of steps stored (frame sets).
    pub steps: usize,
    /// Whether the stored episode ends in success.
    pub success: bool,
}

/// One episode in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    /// Facts about it.
    pub header: EpisodeHeader,
    /// `steps × views × size × size × 3` RGB bytes.
    pub frames: Vec<u8>,
    /// Oracle Φ ∈ [0, 1] per step.
    pub phi: Vec<f32>,
    /// Stage index per step (`0..=stages`; `stages` once the task is solved).
    pub stage: Vec<u8>,
    /// Progress within the stage per step, in [0, 1].
    pub stage_progress: Vec<f32>,
    /// Success per step.
    pub success: Vec<bool>,
}

impl Episode {
    /// The first `steps` steps as a new episode of kind `kind` (success from its last
    /// step).
    pub fn clipped(&self, steps: usize, frame_set_bytes: usize, kind: EpisodeKind) -> Episode {
        let t = steps.min(self.header.steps);
        Episode {
            header: EpisodeHeader {
                seed: self.header.seed,
                kind,
                steps: t,
                success: t > 0 && self.success[t - 1],
            },
            frames: self.frames[..t * frame_set_bytes].to_vec(),
            phi: self.phi[..t].to_vec(),
            stage: self.stage[..t].to_vec(),
            stage_progress: self.stage_progress[..t].to_vec(),
            success: self.success[..t].to_vec(),
        }
    }
}

/// What went wrong with a dataset; every message names the file.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file is damaged or not a dataset file.
    #[error(
        "{path}: corrupted dataset file: {message} (the other episodes are intact; delete or move this file, or pass --skip-corrupt)"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The directory exists but holds a different dataset.
    #[error("{path}: {message}")]
    Mismatch {
        /// The manifest.
        path: PathBuf,
        /// What differs.
        message: String,
    },
    /// An episode does not fit the manifest.
    #[error("episode does not fit the dataset: {0}")]
    BadEpisode(String),
    /// Another process is appending to the same dataset.
    #[error(
        "{path}: another process is recording into this dataset (its `lock` file is locked): wait for it to end, or record into another directory"
    )]
    InUse {
        /// The dataset directory.
        path: PathBuf,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DatasetError + '_ {
    move |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Appends episodes to a dataset directory.
#[derive(Debug)]
pub struct DatasetWriter {
    dir: PathBuf,
    manifest: Manifest,
    next: usize,
    /// Holds the dataset's advisory lock (`DIR/lock`) while this writer lives, so two
    /// recorders never number their episodes alike; the OS drops it with the process.
    _lock: fs::File,
}

impl DatasetWriter {
    /// Create `dir` with `manifest`, or open it for appending when it already holds a
    /// dataset with the same manifest. Fails with [`DatasetError::InUse`] while another
    /// writer (in any process) has the directory open.
    pub fn open(dir: &Path, manifest: Manifest) -> Result<Self, DatasetError> {
        // A run directory (PPO or reward model) is not a dataset: never record into one.
        if !dir.join(MANIFEST).exists()
            && (dir.join("config.ron").exists() || dir.join("checkpoints").exists())
        {
            return Err(DatasetError::Mismatch {
                path: dir.to_path_buf(),
                message: "is a run directory (it holds config.ron or checkpoints/), not a dataset: record into a new directory".into(),
            });
        }
        let episodes = dir.join(EPISODES);
        fs::create_dir_all(&episodes).map_err(io(&episodes))?;
        let lock_path = dir.join(rapt_rundir::lock::LOCK_FILE);
        let lock = rapt_rundir::lock::try_lock_dir(dir)
            .map_err(io(&lock_path))?
            .ok_or_else(|| DatasetError::InUse {
                path: dir.to_path_buf(),
            })?;
        let path = dir.join(MANIFEST);
        if path.exists() {
            let existing = read_manifest(dir)?;
            if existing != manifest {
                return Err(DatasetError::Mismatch {
                    path,
                    message: format!(
                        "holds a different dataset ({} {:?} at {} px, params `{}`) than this recording ({} {:?} at {} px, params `{}`): record into a new directory",
                        existing.env,
                        existing.views,
                        existing.size,
                        existing.params,
                        manifest.env,
                        manifest.views,
                        manifest.size,
                        manifest.params
                    ),
                });
            }
        } else {
            let json = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
            write_atomic(&path, &json)?;
        }
        let next = episode_files(dir)?
            .iter()
            .filter_map(|p| episode_index(p))
            .max()
            .map_or(0, |i| i + 1);
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
            next,
            _lock: lock,
        })
    }

    /// The reset seeds of the episodes recorded so far (clipped copies left out), from
    /// the episode files' headers.
    pub fn recorded_seeds(&self) -> Result<std::collections::BTreeSet<u64>, DatasetError> {
        let mut seeds = std::collections::BTreeSet::new();
        for path in episode_files(&self.dir)? {
            let header = read_header(&path)?;
            if header.kind != EpisodeKind::Clipped {
                seeds.insert(header.seed);
            }
        }
        Ok(seeds)
    }

    /// The dataset's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Write one episode; returns its file.
    pub fn append(&mut self, episode: &Episode) -> Result<PathBuf, DatasetError> {
        let t = episode.header.steps;
        let fsb = self.manifest.frame_set_bytes();
        let sizes = [
            ("frames", episode.frames.len(), t * fsb),
            ("phi", episode.phi.len(), t),
            ("stage", episode.stage.len(), t),
            ("stage_progress", episode.stage_progress.len(), t),
            ("success", episode.success.len(), t),
        ];
        for (name, got, want) in sizes {
            if got != want {
                return Err(DatasetError::BadEpisode(format!(
                    "`{name}` has {got} values, {t} steps need {want}"
                )));
            }
        }
        let path = self
            .dir
            .join(EPISODES)
            .join(format!("ep-{:06}.{EXT}", self.next));
        write_atomic(&path, &encode(episode))?;
        self.next += 1;
        Ok(path)
    }
}

/// Bytes of an episode file.
fn encode(ep: &Episode) -> Vec<u8> {
    let header = serde_json::to_vec(&ep.header).expect("a header serializes");
    let t = ep.header.steps;
    let mut out = Vec::with_capacity(16 + header.len() + ep.frames.len() + 10 * t);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&ep.frames);
    ep.phi.iter().for_each(|v| out.extend(v.to_le_bytes()));
    out.extend_from_slice(&ep.stage);
    ep.stage_progress
        .iter()
        .for_each(|v| out.extend(v.to_le_bytes()));
    out.extend(ep.success.iter().map(|&s| u8::from(s)));
    let crc = crc32fast::hash(&out);
    out.extend(crc.to_le_bytes());
    out
}

/// Write `bytes` to `path` through a synced temporary file (`NAME.tmp`) and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DatasetError> {
    rapt_rundir::write_atomic(path, bytes).map_err(|e| io(&e.path)(e.source))
}

/// The manifest of the dataset in `dir`.
pub fn read_manifest(dir: &Path) -> Result<Manifest, DatasetError> {
    let path = dir.join(MANIFEST);
    let text = fs::read(&path).map_err(io(&path))?;
    let m: Manifest = serde_json::from_slice(&text).map_err(|e| DatasetError::Corrupt {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if m.format != FORMAT {
        return Err(DatasetError::Mismatch {
            path,
            message: format!("format {} is not this build's {FORMAT}", m.format),
        });
    }
    Ok(m)
}

/// Episode files of the dataset in `dir`, in index order.
pub fn episode_files(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let episodes = dir.join(EPISODES);
    let mut files: Vec<PathBuf> = fs::read_dir(&episodes)
        .map_err(io(&episodes))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(EXT))
        .collect();
    files.sort_by_key(|p| episode_index(p));
    Ok(files)
}

fn episode_index(path: &Path) -> Option<usize> {
    path.file_stem()?
        .to_str()?
        .strip_prefix("ep-")?
        .parse()
        .ok()
}

/// The header of the episode file at `path`, without reading (or checking) the rest.
pub fn read_header(path: &Path) -> Result<EpisodeHeader, DatasetError> {
    let corrupt = |message: &str| DatasetError::Corrupt {
        path: path.to_path_buf(),
        message: message.to_owned(),
    };
    let mut file = File::open(path).map_err(io(path))?;
    let mut start = [0u8; 12];
    file.read_exact(&mut start)
        .map_err(|_| corrupt("shorter than an episode header"))?;
    if &start[..8] != MAGIC {
        return Err(corrupt("not an episode file (bad magic)"));
    }
    let h = u32::from_le_bytes(start[8..12].try_into().expect("4 bytes")) as usize;
    if h > 1 << 20 {
        return Err(corrupt("header length is implausible"));
    }
    let mut header = vec![0u8; h];
    file.read_exact(&mut header)
        .map_err(|_| corrupt("header runs past the end"))?;
    serde_json::from_slice(&header).map_err(|_| corrupt("header is not valid JSON"))
}

/// Read and check one episode file against `manifest`.
pub fn read_episode(path: &Path, manifest: &Manifest) -> Result<Episode, DatasetError> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io(path))?;
    decode(&bytes, manifest).map_err(|message| DatasetError::Corrupt {
        path: path.to_path_buf(),
        message,
    })
}

fn decode(bytes: &[u8], manifest: &Manifest) -> Result<Episode, String> {
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err("not an episode file (bad magic)".into());
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes(crc.try_into().expect("4 bytes"));
    if crc32fast::hash(body) != stored {
        return Err(format!(
            "checksum mismatch ({} bytes; truncated or overwritten)",
            bytes.len()
        ));
    }
    let h = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes")) as usize;
    let header: EpisodeHeader = body
        .get(12..12 + h)
        .ok_or("header runs past the end")
        .and_then(|b| serde_json::from_slice(b).map_err(|_| "header is not valid JSON"))?;
    let t = header.steps;
    let fsb = manifest.frame_set_bytes();
    let mut at = 12 + h;
    let mut take = |n: usize| -> Result<&[u8], String> {
        let s = body.get(at..at + n).ok_or_else(|| {
            format!("{t} steps of {fsb}-byte frame sets need more bytes than the file has")
        })?;
        at += n;
        Ok(s)
    };
    let frames = take(t * fsb)?.to_vec();
    let f32s = |b: &[u8]| -> Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect()
    };
    let phi = f32s(take(4 * t)?);
    let stage = take(t)?.to_vec();
    let stage_progress = f32s(take(4 * t)?);
    let success = take(t)?.iter().map(|&b| b != 0).collect();
    if at != body.len() {
        return Err(format!(
            "{} bytes left over after {t} steps",
            body.len() - at
        ));
    }
    Ok(Episode {
        header,
        frames,
        phi,
        stage,
        stage_progress,
        success,
    })
}

/// Read several datasets as one (their frames — views, size, stages — must agree): the
/// first one's manifest, every episode, and the corrupted files left out.
pub fn read_datasets(
    dirs: &[PathBuf],
    skip_corrupt: bool,
) -> Result<(Manifest, Vec<Episode>, Vec<DatasetError>), DatasetError> {
    let mut all: Option<(Manifest, Vec<Episode>, Vec<DatasetError>)> = None;
    for dir in dirs {
        let (m, episodes, skipped) = read_dataset(dir, skip_corrupt)?;
        match &mut all {
            None => all = Some((m, episodes, skipped)),
            Some((first, all_episodes, all_skipped)) => {
                if (&m.views, m.size, &m.stages) != (&first.views, first.size, &first.stages) {
                    return Err(DatasetError::Mismatch {
                        path: dir.clone(),
                        message: format!(
                            "frames ({:?} at {} px, stages {:?}) differ from {}'s ({:?} at {} px, stages {:?})",
                            m.views,
                            m.size,
                            m.stages,
                            dirs[0].display(),
                            first.views,
                            first.size,
                            first.stages
                        ),
                    });
                }
                all_episodes.extend(episodes);
                all_skipped.extend(skipped);
            }
        }
    }
    all.ok_or_else(|| DatasetError::BadEpisode("no dataset given".into()))
}

/// Every episode of the dataset in `dir`. A corrupted file is an error naming it, or,
/// with `skip_corrupt`, is left out and returned in the second list.
pub fn read_dataset(
    dir: &Path,
    skip_corrupt: bool,
) -> Result<(Manifest, Vec<Episode>, Vec<DatasetError>), DatasetError> {
    let manifest = read_manifest(dir)?;
    let mut episodes = Vec::new();
    let mut skipped = Vec::new();
    for path in episode_files(dir)? {
        match read_episode(&path, &manifest) {
            Ok(ep) => episodes.push(ep),
            Err(e @ DatasetError::Corrupt { .. }) if skip_corrupt => skipped.push(e),
            Err(e) => return Err(e),
        }
    }
    Ok((manifest, episodes, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            format: FORMAT,
            env: "Push-v0".into(),
            params: "()".into(),
            views: vec!["front".into(), "side".into()],
            size: 4,
            stages: vec!["reach".into(), "push".into()],
        }
    }

    fn episode(seed: u64, t: usize, m: &Manifest) -> Episode {
        Episode {
            header: EpisodeHeader {
                seed,
                kind: EpisodeKind::Expert,
                steps: t,
                success: true,
            },
            frames: (0..t * m.frame_set_bytes())
                .map(|i| (i % 251) as u8)
                .collect(),
            phi: (0..t).map(|i| i as f32 / t as f32).collect(),
            stage: (0..t).map(|i| (2 * i / t) as u8).collect(),
            stage_progress: vec![0.5; t],
            success: (0..t).map(|i| i + 1 == t).collect(),
        }
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rapt-rm-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn episodes_round_trip_and_a_second_writer_appends() {
        let dir = tmp("roundtrip");
        let m = manifest();
        let mut w = DatasetWriter::open(&dir, m.clone()).unwrap();
        w.append(&episode(1, 5, &m)).unwrap();
        w.append(&episode(2, 3, &m)).unwrap();
        // Two writers at once would number their episodes alike: the second is refused.
        let err = DatasetWriter::open(&dir, m.clone()).unwrap_err();
        assert!(matches!(err, DatasetError::InUse { .. }), "{err}");
        drop(w);
        let mut w = DatasetWriter::open(&dir, m.clone()).unwrap();
        let third = w.append(&episode(3, 7, &m)).unwrap();
        assert!(third.ends_with("episodes/ep-000002.rep"), "{third:?}");
        let (read_m, eps, skipped) = read_dataset(&dir, false).unwrap();
        assert_eq!(read_m, m);
        assert!(skipped.is_empty());
        assert_eq!(eps.len(), 3);
        assert_eq!(eps[0], episode(1, 5, &m));
        assert_eq!(eps[2], episode(3, 7, &m));
        // A half-written file from a killed recording is not an episode.
        fs::write(dir.join("episodes/ep-000003.rep.tmp"), b"partial").unwrap();
        assert_eq!(read_dataset(&dir, false).unwrap().1.len(), 3);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_different_manifest_is_refused() {
        let dir = tmp("mismatch");
        DatasetWriter::open(&dir, manifest()).unwrap();
        let mut other = manifest();
        other.size = 8;
        let err = DatasetWriter::open(&dir, other).unwrap_err().to_string();
        assert!(
            err.contains("dataset.json") && err.contains("new directory"),
            "{err}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_corrupted_chunk_is_named_and_the_others_survive() {
        let dir = tmp("corrupt");
        let m = manifest();
        let mut w = DatasetWriter::open(&dir, m.clone()).unwrap();
        let good = w.append(&episode(1, 4, &m)).unwrap();
        let bad = w.append(&episode(2, 4, &m)).unwrap();
        let mut bytes = fs::read(&bad).unwrap();
        bytes[40] ^= 0xFF;
        fs::write(&bad, &bytes).unwrap();
        let err = read_dataset(&dir, false).unwrap_err().to_string();
        assert!(
            err.contains("ep-000001.rep") && err.contains("checksum"),
            "{err}"
        );
        let (_, eps, skipped) = read_dataset(&dir, true).unwrap();
        assert_eq!(eps.len(), 1);
        assert_eq!(skipped.len(), 1);
        assert!(fs::read(&good).is_ok());
        // Truncation is caught too.
        fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_dataset(&dir, false).unwrap_err().to_string();
        assert!(err.contains("ep-000001.rep"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn clipping_keeps_the_prefix_and_drops_success() {
        let m = manifest();
        let ep = episode(1, 6, &m);
        let c = ep.clipped(3, m.frame_set_bytes(), EpisodeKind::Clipped);
        assert_eq!(c.header.steps, 3);
        assert!(!c.header.success);
        assert_eq!(c.phi, ep.phi[..3]);
        assert_eq!(c.frames.len(), 3 * m.frame_set_bytes());
    }
}
