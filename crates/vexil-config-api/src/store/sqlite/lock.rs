//! The exclusive lock on `{database}.lock`: one process (and one open store) at a time may
//! use the database file. A second process could write the file, but its changes would
//! never reach this process's FlagSync watchers, which hear of changes only from this
//! process's commits.

use std::ffi::OsString;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::store::{StoreError, StoreResult};

/// Another process, or another store in this one, has the database open.
#[derive(Debug, thiserror::Error)]
#[error(
    "the SQLite database {} is already open in another process or store ({} is locked); \
     stop it first: config-api's changes reach FlagSync watchers only in the process that \
     writes them",
    database.display(),
    lock.display()
)]
pub struct AlreadyOpen {
    pub database: PathBuf,
    pub lock: PathBuf,
}

/// Held while the store is open. The lock is the operating system's (`flock` on Unix,
/// `LockFileEx` on Windows), so it goes away with the process, even after a crash.
#[derive(Debug)]
pub(super) struct DatabaseLock {
    _file: File,
}

impl DatabaseLock {
    pub(super) fn acquire(database: &Path) -> StoreResult<DatabaseLock> {
        let lock = lock_path(database);
        let io_error = |action: &str, source: std::io::Error| {
            StoreError::Database(sqlx::Error::Io(std::io::Error::new(
                source.kind(),
                format!("{action} {}: {source}", lock.display()),
            )))
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .map_err(|source| io_error("opening the lock file", source))?;
        match file.try_lock() {
            Ok(()) => Ok(DatabaseLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(StoreError::Database(sqlx::Error::Configuration(
                Box::new(AlreadyOpen {
                    database: database.to_path_buf(),
                    lock,
                }),
            ))),
            Err(TryLockError::Error(source)) => Err(io_error("locking", source)),
        }
    }
}

/// `{database}.lock`, beside the database file.
fn lock_path(database: &Path) -> PathBuf {
    let mut name = OsString::from(database.as_os_str());
    name.push(".lock");
    PathBuf::from(name)
}
