//! Writing files so that a crash or a kill never leaves half of one: the contents go to a
//! temporary beside the target, are flushed to disk, then renamed over it.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file or directory could not be written; names what was done and where.
#[derive(Debug, thiserror::Error)]
#[error("{what} {}: {source}", path.display())]
pub struct FileError {
    /// What was being done ("creating", "writing", "renaming into place", ...).
    pub what: &'static str,
    /// On which path.
    pub path: PathBuf,
    /// The OS error.
    pub source: io::Error,
}

impl FileError {
    /// A closure turning an OS error of `what` on `path` into a [`FileError`].
    pub fn on<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Self + 'a {
        move |source| Self {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// `path` with `.tmp` appended to its file name (`config.ron` → `config.ron.tmp`).
fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Write `contents` to `path` atomically: a temporary file in the same directory
/// (`NAME.tmp`), flushed to disk, then renamed over the target.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), FileError> {
    let tmp = temporary(path);
    let mut f = fs::File::create(&tmp).map_err(FileError::on("creating", &tmp))?;
    f.write_all(contents)
        .and_then(|_| f.sync_all())
        .map_err(FileError::on("writing", &tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(FileError::on("renaming into place", path))
}

/// Write the directory `dir` atomically: `fill` writes its files into a fresh
/// `DIR.tmp/`, which then replaces `dir` (an older directory of that name is removed
/// first). A crash leaves either the old directory or none, and a `DIR.tmp/` that the
/// next write clears; never a directory that looks complete but is not.
pub fn write_dir_atomic<E: From<FileError>>(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let tmp = dir.with_extension("tmp");
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(FileError::on("removing", &tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(FileError::on("creating", &tmp))?;
    fill(&tmp)?;
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(FileError::on("replacing", dir))?;
    }
    fs::rename(&tmp, dir).map_err(FileError::on("renaming into place", dir))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_files_and_directories_whole() {
        let root = std::env::temp_dir().join(format!("rapt-files-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        let file = root.join("config.ron");
        write_atomic(&file, b"one").unwrap();
        write_atomic(&file, b"two").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two");
        assert!(!root.join("config.ron.tmp").exists());

        let dir = root.join("update-000001");
        write_dir_atomic::<FileError>(&dir, |tmp| {
            fs::write(tmp.join("a"), b"1").map_err(FileError::on("writing", tmp))
        })
        .unwrap();
        // A failing fill leaves the old directory as it was.
        let failed = write_dir_atomic::<FileError>(&dir, |tmp| {
            Err(FileError::on("writing", tmp)(io::Error::other("disk full")))
        });
        assert!(failed.unwrap_err().to_string().contains("disk full"));
        assert_eq!(fs::read(dir.join("a")).unwrap(), b"1");
        write_dir_atomic::<FileError>(&dir, |tmp| {
            fs::write(tmp.join("b"), b"2").map_err(FileError::on("writing", tmp))
        })
        .unwrap();
        assert!(!dir.join("a").exists() && dir.join("b").exists());
        assert!(!root.join("update-000001.tmp").exists());
        fs::remove_dir_all(&root).unwrap();
    }
}
