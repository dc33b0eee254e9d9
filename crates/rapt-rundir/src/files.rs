//! Writing files so that a crash or a kill never leaves half of one: the contents go to a
//! temporary beside the target, are flushed to disk, then renamed over it. The one way
//! rapt writes a file (traces, datasets, exports, plots, frames, run files): it writes
//! only where it was asked to. A path that names a symbolic link, a FIFO, a device, a
//! socket or (for a file) a directory is refused with an error saying what is there,
//! never followed or replaced; the temporary is created exclusively (never through a
//! link planted at its name) and removed again when the write fails; every write error,
//! the final flush to disk included, is reported.

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

/// What is at `path` when it is not what rapt may replace: `None` for nothing or a
/// regular file (or, with `dir`, a directory), else its kind in words.
fn foreign_kind(path: &Path, dir: bool) -> Result<Option<&'static str>, FileError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(FileError::on("inspecting", path)(e)),
    };
    let kind = meta.file_type();
    Ok(if kind.is_symlink() {
        Some("a symbolic link")
    } else if kind.is_file() {
        (dir).then_some("a file, not a directory")
    } else if kind.is_dir() {
        (!dir).then_some("a directory")
    } else {
        Some("not a regular file (a FIFO, a device or a socket)")
    })
}

/// Refuse `path` unless it is free or holds what a write may replace.
fn check_target(path: &Path, dir: bool) -> Result<(), FileError> {
    match foreign_kind(path, dir)? {
        None => Ok(()),
        Some(kind) => Err(FileError {
            what: "refusing to write",
            path: path.to_path_buf(),
            source: io::Error::other(format!(
                "it is {kind}; rapt writes only regular files and directories it creates (name another path)"
            )),
        }),
    }
}

/// Remove a leftover temporary at `tmp` (a file, a link or a directory from a crashed
/// write), without following a link.
fn clear(tmp: &Path) -> Result<(), FileError> {
    match fs::symlink_metadata(tmp) {
        Err(_) => Ok(()),
        Ok(meta) if meta.is_dir() => {
            fs::remove_dir_all(tmp).map_err(FileError::on("removing", tmp))
        }
        Ok(_) => fs::remove_file(tmp).map_err(FileError::on("removing", tmp)),
    }
}

/// Write `contents` to `path` atomically: a temporary file in the same directory
/// (`NAME.tmp`, created exclusively), flushed to disk, then renamed over the target. A
/// `path` that is a link, a directory or not a regular file is refused; on any error the
/// temporary is removed and the target left as it was.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), FileError> {
    check_target(path, false)?;
    let tmp = temporary(path);
    clear(&tmp)?;
    let written = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(FileError::on("creating", &tmp))?;
        // Named by the file asked for: its temporary is an implementation detail.
        f.write_all(contents)
            .and_then(|_| f.sync_all())
            .map_err(FileError::on("writing", path))?;
        drop(f);
        // Checked again just before the rename: a link put there meanwhile is refused too.
        check_target(path, false)?;
        fs::rename(&tmp, path).map_err(FileError::on("renaming into place", path))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Write the directory `dir` atomically: `fill` writes its files into a fresh
/// `DIR.tmp/`, which then replaces `dir` (an older directory of that name is removed
/// first). A crash leaves either the old directory or none, and a `DIR.tmp/` that the
/// next write clears; never a directory that looks complete but is not.
pub fn write_dir_atomic<E: From<FileError>>(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    check_target(dir, true)?;
    let tmp = dir.with_extension("tmp");
    clear(&tmp)?;
    if let Some(parent) = tmp.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(FileError::on("creating", parent))?;
    }
    fs::create_dir(&tmp).map_err(FileError::on("creating", &tmp))?;
    if let Err(e) = fill(&tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    check_target(dir, true)?;
    if fs::symlink_metadata(dir).is_ok() {
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

    #[cfg(unix)]
    #[test]
    fn links_fifos_devices_and_directories_are_never_followed_or_replaced() {
        let root = std::env::temp_dir().join(format!("rapt-files-foreign-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        let important = root.join("important.txt");
        fs::write(&important, b"keep me").unwrap();
        let link = root.join("link.json");
        std::os::unix::fs::symlink(&important, &link).unwrap();
        let err = write_atomic(&link, b"trace").unwrap_err().to_string();
        assert!(
            err.contains("symbolic link") && err.contains("link.json"),
            "{err}"
        );
        assert_eq!(fs::read(&important).unwrap(), b"keep me");
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        // A FIFO (`mkfifo`): writing would block or feed a reader; refused.
        let fifo = root.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = write_atomic(&fifo, b"x").unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{err}");
        }
        // A device: /dev/null stays a device.
        let err = write_atomic(Path::new("/dev/null"), b"x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a regular file"), "{err}");
        assert!(!Path::new("/dev/null.tmp").exists());
        // A directory where a file goes, and a link where a checkpoint directory goes.
        let err = write_atomic(&root, b"x").unwrap_err().to_string();
        assert!(err.contains("a directory"), "{err}");
        let ckpt = root.join("update-000002");
        std::os::unix::fs::symlink(&root, &ckpt).unwrap();
        let err = write_dir_atomic::<FileError>(&ckpt, |_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("symbolic link"), "{err}");
        // A link planted at the temporary's name is removed, not written through.
        let target = root.join("t.json");
        std::os::unix::fs::symlink(&important, root.join("t.json.tmp")).unwrap();
        write_atomic(&target, b"new").unwrap();
        assert_eq!(fs::read(&important).unwrap(), b"keep me");
        assert_eq!(fs::read(&target).unwrap(), b"new");
        fs::remove_dir_all(&root).unwrap();
    }
}
