//! Segment files: `{first offset, 20 digits}.log` in a partition's directory, listing them,
//! and checking the newest one's tail when the log opens.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::frame::{self, Next};
use crate::QueueError;

const EXTENSION: &str = ".log";

/// The file holding the segment whose first offset is `base`.
pub(crate) fn path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}{EXTENSION}"))
}

/// The first offsets of the segments in `dir`, oldest first. Other files are ignored.
pub(crate) fn list(dir: &Path) -> Result<Vec<u64>, QueueError> {
    let entries = fs::read_dir(dir).map_err(QueueError::io("list partition directory", dir))?;
    let mut bases = Vec::new();
    for entry in entries {
        let entry = entry.map_err(QueueError::io("list partition directory", dir))?;
        let name = entry.file_name();
        let base = name
            .to_str()
            .and_then(|name| name.strip_suffix(EXTENSION))
            .filter(|digits| digits.len() == 20)
            .and_then(|digits| digits.parse::<u64>().ok());
        match base {
            Some(base) => bases.push(base),
            None => {
                tracing::warn!(path = %entry.path().display(), "ignoring a file that is not a queue segment")
            }
        }
    }
    bases.sort_unstable();
    Ok(bases)
}

/// Creates the empty segment starting at `base` and makes its name durable.
pub(crate) fn create(dir: &Path, base: u64) -> Result<File, QueueError> {
    let path = path(dir, base);
    let file = OpenOptions::new()
        .append(true)
        .create_new(true)
        .open(&path)
        .map_err(QueueError::io("create segment", &path))?;
    sync_dir(dir)?;
    Ok(file)
}

/// The newest segment after [`recover`]: open for appending.
pub(crate) struct Recovered {
    pub file: File,
    pub len: u64,
    pub next_offset: u64,
}

/// Checks every frame of the newest segment, which a crash may have left half written,
/// and cuts the file after the last whole record. Appends continue at the returned offset.
pub(crate) fn recover(dir: &Path, base: u64) -> Result<Recovered, QueueError> {
    let path = path(dir, base);
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .open(&path)
        .map_err(QueueError::io("open segment", &path))?;
    let file_len = file
        .metadata()
        .map_err(QueueError::io("read the size of segment", &path))?
        .len();
    let mut reader = BufReader::with_capacity(1 << 16, &file);
    let (mut position, mut next_offset) = (0u64, base);
    let damage = loop {
        let next = frame::read_frame(&mut reader, file_len - position, false)
            .map_err(QueueError::io("read segment", &path))?;
        match next {
            Next::End => break None,
            Next::Damaged(reason) => break Some(reason),
            Next::Frame { offset, .. } if offset != next_offset => {
                break Some("offset out of sequence")
            }
            Next::Frame {
                payload, frame_len, ..
            } => {
                if let Some(Err(reason)) = payload.map(frame::decode) {
                    break Some(reason);
                }
                position += frame_len;
                next_offset += 1;
            }
        }
    };
    drop(reader);
    if let Some(reason) = damage {
        tracing::warn!(
            path = %path.display(),
            position,
            dropped_bytes = file_len - position,
            kept_records = next_offset - base,
            reason,
            "truncating the torn tail of a queue segment"
        );
        file.set_len(position)
            .map_err(QueueError::io("truncate segment", &path))?;
        file.sync_all()
            .map_err(QueueError::io("sync segment", &path))?;
    }
    // Appends go to the end whatever the cursor says; this only keeps it tidy.
    let mut file = file;
    file.seek(SeekFrom::End(0))
        .map_err(QueueError::io("seek segment", &path))?;
    Ok(Recovered {
        file,
        len: position,
        next_offset,
    })
}

/// Makes the names in `dir` (a created or removed file) durable. Directories cannot be
/// opened for syncing on Windows, where NTFS journals names itself.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), QueueError> {
    if cfg!(unix) {
        File::open(dir)
            .and_then(|handle| handle.sync_all())
            .map_err(QueueError::io("sync directory", dir))?;
    }
    Ok(())
}
