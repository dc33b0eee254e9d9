//! Run directories: naming, claiming (one process at a time), atomic file writes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

/// `runs/<name>-<YYYYmmdd-HHMMSS>` (UTC), with a numeric suffix if it already exists.
pub fn new_run_dir(root: &Path, name: &str) -> Result<PathBuf> {
    let stamp = utc_stamp(SystemTime::now());
    let mut dir = root.join(format!("{name}-{stamp}"));
    let mut k = 1;
    while dir.exists() {
        dir = root.join(format!("{name}-{stamp}-{k}"));
        k += 1;
    }
    fs::create_dir_all(&dir)
        .with_context(|| format!("creating run directory {}", dir.display()))?;
    Ok(dir)
}

/// A process's exclusive claim on a run directory (an advisory lock on `RUN/lock`), held
/// until it is dropped; the OS releases it when the process ends, however it ends.
#[derive(Debug)]
pub struct RunLock {
    _file: fs::File,
}

/// Claim `run_dir` for this process, so that two trainings (say, a `--resume` started twice)
/// cannot write the same checkpoints and metrics. Fails at once, naming the directory, if
/// another process holds it.
pub fn lock(run_dir: &Path) -> Result<RunLock> {
    let path = run_dir.join(rapt_ppo::dir_lock::LOCK_FILE);
    match rapt_ppo::dir_lock::try_lock_dir(run_dir)
        .with_context(|| format!("locking {}", path.display()))?
    {
        Some(file) => Ok(RunLock { _file: file }),
        None => bail!(
            "{} is in use by another rapt process ({} is locked): wait for it to end, or use \
             another run directory",
            run_dir.display(),
            path.display()
        ),
    }
}

/// Write `contents` to `path` atomically: a temporary file in the same directory,
/// flushed to disk, then renamed over the target, so a crash never leaves half a file.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(contents)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

/// Open `run_dir/metrics.csv` for appending, first writing the `header` line (CleanRL's
/// metric names as columns) when the file is new or empty.
pub fn metrics_csv(run_dir: &Path, header: &str) -> Result<fs::File> {
    let path = run_dir.join("metrics.csv");
    let mut csv = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    let empty = csv.metadata().map(|m| m.len() == 0).unwrap_or(true);
    if empty {
        writeln!(csv, "{header}").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(csv)
}

/// Drop the rows of `run_dir/metrics.csv` logged after `global_step` (the first column),
/// and any torn last line, atomically: what a killed run logged after its checkpoint.
pub fn trim_metrics(run_dir: &Path, global_step: u64) -> Result<()> {
    let path = run_dir.join("metrics.csv");
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
    write_atomic(&path, kept.as_bytes())
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
        fs::create_dir_all(&dir).unwrap();
        let held = lock(&dir).unwrap();
        let err = lock(&dir).unwrap_err().to_string();
        assert!(
            err.contains("in use by another rapt process") && err.contains(dir.to_str().unwrap()),
            "{err}"
        );
        drop(held);
        lock(&dir).expect("free again once the holder lets go");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn trimming_keeps_the_header_and_rows_up_to_the_checkpoint() {
        let dir = std::env::temp_dir().join(format!("rapt-trim-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.csv");
        fs::write(&path, "global_step,x\n100,1\n200,2\n300,3\n40").unwrap();
        trim_metrics(&dir, 200).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "global_step,x\n100,1\n200,2\n"
        );
        // Reopening does not repeat the header.
        let mut f = metrics_csv(&dir, "global_step,x").unwrap();
        writeln!(f, "300,9").unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "global_step,x\n100,1\n200,2\n300,9\n"
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
