//! Exclusive claims on directories (run directories, datasets) between processes.

use std::fs::{self, File, TryLockError};
use std::io;
use std::path::Path;

/// The lock file's name inside a claimed directory.
pub const LOCK_FILE: &str = "lock";

/// Takes the advisory lock on `dir/lock` (created if missing) without waiting.
///
/// `Ok(Some(file))`: the lock is held until `file` is dropped, and the OS releases it when
/// the process ends, however it ends (a kill leaves no stale claim). `Ok(None)`: another
/// holder, in this process or another, has it.
pub fn try_lock_dir(dir: &Path) -> io::Result<Option<File>> {
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_until_it_lets_go() {
        let dir = std::env::temp_dir().join(format!("rapt-dir-lock-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let held = try_lock_dir(&dir).unwrap().expect("a free directory");
        assert!(try_lock_dir(&dir).unwrap().is_none());
        drop(held);
        assert!(try_lock_dir(&dir).unwrap().is_some());
        fs::remove_dir_all(&dir).unwrap();
    }
}
