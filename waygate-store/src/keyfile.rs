//! Master key files in the data directory, written so that a crash never
//! leaves a torn or missing key: `master.key` (the key in use) and, while a
//! rotation runs, `master.key.next` (the key being rotated to).
//!
//! A file is written under a temporary name, synced, then linked to its final
//! name (which fails if that name exists: two rotations cannot both claim
//! `master.key.next`), and the directory is synced so the name survives a crash.
//! Promoting `master.key.next` to `master.key` is one `rename`, then a directory sync.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::vault::{MASTER_KEY_FILE, MasterKey};

/// The file holding the key a rotation moves to, until it is complete.
pub const MASTER_KEY_NEXT_FILE: &str = "master.key.next";

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::new(ErrorKind::Config, format!("{what} {}", path.display())).with_source(e)
}

/// The key in `path`; `None` when there is no such file.
pub(crate) fn read(path: &Path) -> Result<Option<MasterKey>> {
    match fs::read_to_string(path) {
        Ok(text) => {
            let text = Zeroizing::new(text);
            MasterKey::from_base64(&text)
                .map(Some)
                .map_err(|e| Error::new(ErrorKind::Config, format!("{}: {e}", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("cannot read the master key file", path, e)),
    }
}

/// The path of `master.key.next` in `dir`.
pub(crate) fn next_path(dir: &Path) -> PathBuf {
    dir.join(MASTER_KEY_NEXT_FILE)
}

/// The path of `master.key` in `dir`.
pub(crate) fn current_path(dir: &Path) -> PathBuf {
    dir.join(MASTER_KEY_FILE)
}

/// Writes `key` to `master.key.next` (mode 0600), durably, failing with
/// [`ErrorKind::Conflict`] when that file already exists.
pub(crate) fn create_next(dir: &Path, key: &MasterKey) -> Result<()> {
    let path = next_path(dir);
    let tmp = dir.join(format!(
        ".{MASTER_KEY_NEXT_FILE}.{}.tmp",
        uuid::Uuid::new_v4().simple()
    ));
    let result = write_new(&tmp, key).and_then(|()| {
        fs::hard_link(&tmp, &path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "{} exists: another key rotation is in progress or was interrupted",
                        path.display()
                    ),
                )
            } else {
                io_error("cannot create", &path, e)
            }
        })
    });
    // The temporary name goes either way; the key lives on under its final name.
    let _ = fs::remove_file(&tmp);
    result?;
    sync_dir(dir)
}

/// Makes `master.key.next` the key in use: renames it over `master.key`.
/// Succeeds without doing anything when the file is gone because another
/// process promoted the same key already (`expected` is what `master.key` holds then).
pub(crate) fn promote_next(dir: &Path, expected: &MasterKey) -> Result<()> {
    let next = next_path(dir);
    let current = current_path(dir);
    match fs::rename(&next, &current) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match read(&current)? {
            Some(key) if key.id() == expected.id() => Ok(()),
            _ => Err(Error::new(
                ErrorKind::Config,
                format!(
                    "{} disappeared before it could replace {}",
                    next.display(),
                    current.display()
                ),
            )),
        },
        Err(e) => Err(io_error("cannot rename", &next, e)),
    }
}

/// Creates `path` (it must not exist) with mode 0600 and the key, synced to disk.
fn write_new(path: &Path, key: &MasterKey) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| io_error("cannot create", path, e))?;
    let text = Zeroizing::new(BASE64.encode(key.bytes()));
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("cannot write", path, e))
}

/// Syncs a directory, so that names created or renamed in it survive a crash.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error("cannot sync the directory", dir, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("waygate-keyfile-{}", uuid::Uuid::new_v4()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn next_is_created_once_privately_and_promoted() {
        let dir = temp_dir();
        let old = MasterKey::generate();
        write_new(&current_path(&dir), &old).unwrap();
        let new = MasterKey::generate();
        create_next(&dir, &new).unwrap();
        let err = create_next(&dir, &MasterKey::generate()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(err.to_string().contains("master.key.next exists"), "{err}");
        assert_eq!(read(&next_path(&dir)).unwrap().unwrap().id(), new.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(next_path(&dir)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        promote_next(&dir, &new).unwrap();
        assert!(read(&next_path(&dir)).unwrap().is_none());
        assert_eq!(read(&current_path(&dir)).unwrap().unwrap().id(), new.id());
        // Promoted by someone else already: fine for the same key only.
        promote_next(&dir, &new).unwrap();
        assert!(promote_next(&dir, &old).is_err());
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, [MASTER_KEY_FILE]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_malformed_key_file_is_named() {
        let dir = temp_dir();
        fs::write(next_path(&dir), "garbage").unwrap();
        let err = read(&next_path(&dir)).unwrap_err();
        assert!(err.to_string().contains("master.key.next"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
