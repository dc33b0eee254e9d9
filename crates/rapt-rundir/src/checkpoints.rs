//! Checkpoint directories, one implementation for every trainer: a directory of numbered
//! checkpoints (`update-000120` for PPO runs, `epoch-0007` for reward-model runs), each
//! itself a directory written atomically ([`crate::write_dir_atomic`]), plus named ones
//! (`best`) that listing and pruning leave alone.

use std::fmt::Display;
use std::fs;
use std::path::{Path, PathBuf};

use crate::files::FileError;

/// Why a checkpoint directory could not be listed, pruned or located in.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointDirError {
    /// A file operation failed.
    #[error(transparent)]
    File(#[from] FileError),
    /// There is no checkpoint where one was asked for.
    #[error("{0}")]
    NotFound(String),
}

/// The numbered checkpoints of one run: `DIR/<prefix><number>`, the number written with
/// at least `width` digits so that names also sort by number in a file listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointDir {
    dir: PathBuf,
    prefix: &'static str,
    width: usize,
}

impl CheckpointDir {
    /// PPO runs: `RUN/checkpoints/update-NNNNNN`.
    pub fn updates(dir: impl Into<PathBuf>) -> Self {
        Self::new(dir, "update-", 6)
    }

    /// Reward-model runs: `RUN/checkpoints/epoch-NNNN`.
    pub fn epochs(dir: impl Into<PathBuf>) -> Self {
        Self::new(dir, "epoch-", 4)
    }

    /// Checkpoints `dir/<prefix><number>` with numbers of at least `width` digits.
    pub fn new(dir: impl Into<PathBuf>, prefix: &'static str, width: usize) -> Self {
        Self {
            dir: dir.into(),
            prefix,
            width,
        }
    }

    /// The directory holding the checkpoints.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where checkpoint `number` goes (`update-000120`).
    pub fn path_of(&self, number: u64) -> PathBuf {
        self.dir.join(format!(
            "{}{number:0width$}",
            self.prefix,
            width = self.width
        ))
    }

    /// The checkpoint's number, if `path` names one of this directory's kind.
    pub fn number_of(&self, path: &Path) -> Option<u64> {
        let name = path.file_name()?.to_str()?;
        let digits = name.strip_prefix(self.prefix)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    /// Every numbered checkpoint directory, newest (highest number) first, whether or not
    /// it is intact; half-written `*.tmp` directories and named checkpoints (`best`) are
    /// not listed. Empty when the directory does not exist.
    pub fn newest_first(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut numbered: Vec<(u64, PathBuf)> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .filter_map(|p| Some((self.number_of(&p)?, p)))
            .collect();
        numbered.sort();
        numbered.into_iter().rev().map(|(_, p)| p).collect()
    }

    /// The newest numbered checkpoint, intact or not ([`Self::load_newest`] checks).
    pub fn latest(&self) -> Option<PathBuf> {
        self.newest_first().into_iter().next()
    }

    /// Delete all numbered checkpoints but the newest `keep`; named ones and `*.tmp`
    /// directories are left alone.
    pub fn prune(&self, keep: usize) -> Result<(), CheckpointDirError> {
        for old in self.newest_first().iter().skip(keep) {
            fs::remove_dir_all(old).map_err(FileError::on("removing old checkpoint", old))?;
        }
        Ok(())
    }

    /// Load the newest intact checkpoint with `load`: a newer one that fails to load (a
    /// missing file, a digest mismatch, a truncated tensor) is skipped with a warning
    /// naming both. `Ok(None)` when there is no checkpoint at all; the newest one's error
    /// when there are some but none loads, never a silent fresh start.
    pub fn load_newest<T, E: Display>(
        &self,
        mut load: impl FnMut(&Path) -> Result<T, E>,
    ) -> Result<Option<(T, PathBuf)>, E> {
        let mut skipped: Vec<(PathBuf, E)> = Vec::new();
        for checkpoint in self.newest_first() {
            match load(&checkpoint) {
                Ok(loaded) => {
                    for (bad, e) in &skipped {
                        tracing::warn!(
                            "skipping checkpoint {}: {e}; using {} instead",
                            bad.display(),
                            checkpoint.display()
                        );
                    }
                    return Ok(Some((loaded, checkpoint)));
                }
                Err(e) => skipped.push((checkpoint, e)),
            }
        }
        match skipped.into_iter().next() {
            None => Ok(None),
            Some((_, e)) => Err(e),
        }
    }
}

/// The checkpoint that `target` names: the newest numbered checkpoint in
/// `target/checkpoints` when `target` is a run directory (it holds `config.ron`), or
/// `target` itself when it is a checkpoint inside one (`RUN/checkpoints/NAME`, `best`
/// included). Returns (run directory, checkpoint).
pub fn locate_checkpoint(
    target: &Path,
    kind: impl Fn(PathBuf) -> CheckpointDir,
) -> Result<(PathBuf, PathBuf), CheckpointDirError> {
    if target.join("config.ron").exists() {
        let checkpoints = kind(target.join("checkpoints"));
        let checkpoint = checkpoints.latest().ok_or_else(|| {
            CheckpointDirError::NotFound(format!(
                "no checkpoint in {}",
                checkpoints.dir().display()
            ))
        })?;
        return Ok((target.to_path_buf(), checkpoint));
    }
    let run_dir = target
        .parent()
        .and_then(Path::parent)
        .filter(|d| d.join("config.ron").exists())
        .ok_or_else(|| {
            CheckpointDirError::NotFound(format!(
                "{} is neither a run directory (with config.ron) nor a checkpoint inside one",
                target.display()
            ))
        })?;
    Ok((run_dir.to_path_buf(), target.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rapt-ckdir-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn checkpoints_are_listed_by_number_and_pruned_to_the_newest() {
        let dir = scratch("list");
        let ck = CheckpointDir::epochs(&dir);
        // 10000 epochs outgrow the width: sorted by number, not by name.
        for name in [
            "epoch-0002",
            "epoch-10000",
            "epoch-0999",
            "best",
            "epoch-0003.tmp",
        ] {
            fs::create_dir_all(dir.join(name)).unwrap();
        }
        fs::write(dir.join("epoch-0005"), b"a file, not a checkpoint").unwrap();
        assert_eq!(ck.path_of(7), dir.join("epoch-0007"));
        assert_eq!(
            ck.newest_first(),
            [
                dir.join("epoch-10000"),
                dir.join("epoch-0999"),
                dir.join("epoch-0002")
            ]
        );
        ck.prune(2).unwrap();
        let mut left: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "best",
                "epoch-0003.tmp",
                "epoch-0005",
                "epoch-0999",
                "epoch-10000"
            ]
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_newest_intact_checkpoint_loads_past_damaged_ones() {
        let dir = scratch("newest");
        let ck = CheckpointDir::updates(&dir);
        assert!(ck.load_newest(|_| Ok::<_, String>(())).unwrap().is_none());
        for n in 1..=3 {
            fs::create_dir_all(ck.path_of(n)).unwrap();
        }
        let load = |p: &Path| match ck.number_of(p) {
            Some(1) => Ok(1),
            n => Err(format!("{n:?} is damaged")),
        };
        assert_eq!(ck.load_newest(load).unwrap(), Some((1, ck.path_of(1))));
        let err = ck.load_newest(|_| Err::<(), _>("bad")).unwrap_err();
        assert_eq!(err, "bad");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_checkpoint_is_located_from_its_run_or_itself() {
        let run = scratch("locate");
        let ck = CheckpointDir::updates(run.join("checkpoints"));
        fs::write(run.join("config.ron"), "()").unwrap();
        let err = locate_checkpoint(&run, CheckpointDir::updates).unwrap_err();
        assert!(err.to_string().contains("no checkpoint in"), "{err}");
        fs::create_dir_all(ck.path_of(4)).unwrap();
        fs::create_dir_all(ck.dir().join("best")).unwrap();
        assert_eq!(
            locate_checkpoint(&run, CheckpointDir::updates).unwrap(),
            (run.clone(), ck.path_of(4))
        );
        let best = ck.dir().join("best");
        assert_eq!(
            locate_checkpoint(&best, CheckpointDir::updates).unwrap(),
            (run.clone(), best)
        );
        let err = locate_checkpoint(&run.join("nope"), CheckpointDir::updates).unwrap_err();
        assert!(err.to_string().contains("neither a run directory"), "{err}");
        fs::remove_dir_all(&run).unwrap();
    }
}
