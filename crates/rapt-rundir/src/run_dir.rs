//! Run directories, one type for every trainer: naming (`runs/<name>-<UTC stamp>`),
//! claiming (one process at a time, an advisory lock the OS drops when the process ends),
//! atomic file writes, and trimming `metrics.csv` back to a checkpoint when a run
//! resumes.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::files::{FileError, write_atomic};
use crate::lock as dir_lock;

/// The TensorBoard log directory inside a run directory, for every kind of run.
pub const TENSORBOARD_DIR: &str = "tensorboard";

/// Why a run directory could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunDirError {
    /// Another process holds the directory.
    #[error(
        "{} is in use by another rapt process ({} is locked): wait for it to end, or use another run directory",
        dir.display(),
        dir.join(dir_lock::LOCK_FILE).display()
    )]
    Busy {
        /// The directory.
        dir: PathBuf,
    },
    /// A file operation failed.
    #[error(transparent)]
    File(#[from] FileError),
}

fn io_err<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> RunDirError + 'a {
    move |source| FileError::on(what, path)(source).into()
}

/// A claimed run directory: held by this process until dropped.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    _lock: fs::File,
}

impl RunDir {
    /// A new directory `root/<name>-<YYYYmmdd-HHMMSS>` (UTC; a numeric suffix if it
    /// exists), claimed.
    pub fn create_new(root: &Path, name: &str) -> Result<Self, RunDirError> {
        let stamp = utc_stamp(SystemTime::now());
        let mut dir = root.join(format!("{name}-{stamp}"));
        let mut k = 1;
        while dir.exists() {
            dir = root.join(format!("{name}-{stamp}-{k}"));
            k += 1;
        }
        Self::claim(&dir)
    }

    /// Claim `dir` (created if missing), so that two processes (say, a `--resume` started
    /// twice) cannot write the same checkpoints and metrics. Fails at once, naming the
    /// directory, if another process holds it.
    pub fn claim(dir: &Path) -> Result<Self, RunDirError> {
        fs::create_dir_all(dir).map_err(io_err("creating run directory", dir))?;
        let lock = dir.join(dir_lock::LOCK_FILE);
        match dir_lock::try_lock_dir(dir).map_err(io_err("locking", &lock))? {
            Some(file) => Ok(Self {
                path: dir.to_path_buf(),
                _lock: file,
            }),
            None => Err(RunDirError::Busy {
                dir: dir.to_path_buf(),
            }),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `name` inside the directory.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }

    /// The checkpoint directory, `RUN/checkpoints`.
    pub fn checkpoints(&self) -> PathBuf {
        self.path.join("checkpoints")
    }

    /// `RUN/metrics.csv`.
    pub fn metrics_csv(&self) -> PathBuf {
        self.path.join("metrics.csv")
    }

    /// The TensorBoard log directory, `RUN/tensorboard` ([`TENSORBOARD_DIR`]).
    pub fn tensorboard(&self) -> PathBuf {
        self.path.join(TENSORBOARD_DIR)
    }

    /// Write `contents` to `name` inside the directory atomically.
    pub fn write_atomic(&self, name: &str, contents: &[u8]) -> Result<(), RunDirError> {
        Ok(write_atomic(&self.path.join(name), contents)?)
    }

    /// Drop the rows of `metrics.csv` logged after `global_step` (the first column), and
    /// any torn last line, atomically: what a killed run logged after its checkpoint.
    pub fn trim_metrics(&self, global_step: u64) -> Result<(), RunDirError> {
        let path = self.metrics_csv();
        let Ok(text) = fs::read_to_string(&path) else {
            return Ok(());
        };
        let mut kept = String::with_capacity(text.len());
        for (k, line) in text.split_inclusive('\n').enumerate() {
            let complete = line.ends_with('\n');
            let step = line.split(',').next().and_then(|s| s.parse::<u64>().ok());
            let keep = match step {
                _ if !complete => false,
                Some(step) => step <= global_step,
                None => k == 0, // the header
            };
            if keep {
                kept.push_str(line);
            }
        }
        Ok(write_atomic(&path, kept.as_bytes())?)
    }
}

/// `YYYYmmdd-HHMMSS` in UTC.
fn utc_stamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_run_directory_is_claimed_by_one_holder_at_a_time() {
        let dir = std::env::temp_dir().join(format!("rapt-lock-{}", std::process::id()));
        let held = RunDir::claim(&dir).unwrap();
        let err = RunDir::claim(&dir).unwrap_err().to_string();
        assert!(
            err.contains("in use by another rapt process") && err.contains(dir.to_str().unwrap()),
            "{err}"
        );
        drop(held);
        RunDir::claim(&dir).expect("free again once the holder lets go");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn trimming_keeps_the_header_and_rows_up_to_the_checkpoint() {
        let dir = std::env::temp_dir().join(format!("rapt-trim-{}", std::process::id()));
        let run = RunDir::claim(&dir).unwrap();
        let path = run.metrics_csv();
        fs::write(&path, "global_step,x\n100,1\n200,2\n300,3\n40").unwrap();
        run.trim_metrics(200).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "global_step,x\n100,1\n200,2\n"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn utc_stamps_match_known_dates() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(utc_stamp(t), "20261118-110640");
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101-000000");
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
