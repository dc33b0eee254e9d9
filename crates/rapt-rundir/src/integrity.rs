//! SHA-256 digests of the files a checkpoint or a model holds, recorded in its metadata
//! (`meta.json`, `progress.json`, `model.json`) and checked on load, so that a zeroed, truncated or overwritten tensor file is an error
//! naming the file rather than a run that trains on from garbage. The digests are plain
//! hex, so `sha256sum` checks them too.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A file whose digest differs from the recorded one, or that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrityError {
    /// The file cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file's contents changed since its digest was recorded.
    #[error("{} does not match its SHA-256 (recorded {expected}, found {found})", path.display())]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// The recorded digest, hex.
        expected: String,
        /// The file's digest, hex.
        found: String,
    },
}

/// The SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The SHA-256 of the file at `path`, lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String, IntegrityError> {
    let io = |source| IntegrityError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The digests of `names` inside `dir`, by name.
pub fn digest_files(
    dir: &Path,
    names: &[&str],
) -> Result<BTreeMap<String, String>, IntegrityError> {
    names
        .iter()
        .map(|name| Ok(((*name).to_owned(), sha256_file(&dir.join(name))?)))
        .collect()
}

/// Check every file of `recorded` (name → digest) inside `dir`.
pub fn verify_files(dir: &Path, recorded: &BTreeMap<String, String>) -> Result<(), IntegrityError> {
    for (name, expected) in recorded {
        let path = dir.join(name);
        let found = sha256_file(&path)?;
        if &found != expected {
            return Err(IntegrityError::Mismatch {
                path,
                expected: expected.clone(),
                found,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_the_standard_value_and_catch_a_changed_byte() {
        let dir = std::env::temp_dir().join(format!("rapt-integrity-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a"), b"abc").unwrap();
        let sums = digest_files(&dir, &["a"]).unwrap();
        assert_eq!(
            sums["a"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        verify_files(&dir, &sums).unwrap();
        std::fs::write(dir.join("a"), b"abd").unwrap();
        let err = verify_files(&dir, &sums).unwrap_err().to_string();
        assert!(err.contains("does not match its SHA-256"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
