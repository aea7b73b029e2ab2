//! The exclusive lock on a queue directory: one process (and one open queue) at a time
//! may write a log, or two writers would interleave frames and reuse offsets.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crate::QueueError;

/// The lock file in the queue directory. The lock is the operating system's (`flock` on
/// Unix, `LockFileEx` on Windows), so it goes away with the process, even after a crash.
const LOCK_FILE: &str = "LOCK";

/// Held while the queue is open; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct DirectoryLock {
    _file: File,
}

impl DirectoryLock {
    pub(crate) fn acquire(dir: &Path) -> Result<DirectoryLock, QueueError> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(QueueError::io("open lock file", &path))?;
        match file.try_lock() {
            Ok(()) => Ok(DirectoryLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(QueueError::Locked {
                path: dir.to_path_buf(),
                lock: path,
            }),
            Err(TryLockError::Error(source)) => Err(QueueError::Io {
                action: "lock",
                path,
                source,
            }),
        }
    }
}
