//! Reading one partition from a position: straight from the segment files, never from a
//! copy in memory. A cursor remembers the byte where its next record starts, so reading
//! on costs no search; a new position scans its segment once from the start.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};

use super::frame::{self, Next};
use super::partition::Partition;
use super::segment;
use crate::{Position, QueueError, StoredRecord};

/// Reads are buffered in chunks of this size.
const READ_BUFFER: usize = 1 << 16;

/// A reader's position in one partition.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor {
    pub next_offset: u64,
    /// The segment (by first offset) and byte at which `next_offset`'s frame starts, once
    /// known.
    pub location: Option<(u64, u64)>,
}

impl Cursor {
    pub(crate) fn at(offset: u64) -> Cursor {
        Cursor {
            next_offset: offset,
            location: None,
        }
    }
}

/// Limits of one read.
pub(crate) struct Budget {
    pub records: usize,
    pub bytes: u64,
}

/// Appends to `out` the durable records of `partition` from `cursor` on, within `budget`
/// (both shrink as records are read), and moves the cursor past them.
pub(crate) fn read(
    partition: &Partition,
    cursor: &mut Cursor,
    budget: &mut Budget,
    out: &mut Vec<StoredRecord>,
) -> Result<(), QueueError> {
    let durable = partition.durable_next();
    while cursor.next_offset < durable && budget.records > 0 && budget.bytes > 0 {
        let Some((base, next_base)) = locate(partition, cursor) else {
            return Ok(());
        };
        let path = segment::path(&partition.dir, base);
        let file = match File::open(&path) {
            Ok(file) => file,
            // Released and deleted since `locate`: locate again.
            Err(error)
                if error.kind() == std::io::ErrorKind::NotFound
                    && !partition.segments().contains(&base) =>
            {
                continue
            }
            Err(source) => {
                return Err(QueueError::Io {
                    action: "open segment",
                    path,
                    source,
                })
            }
        };
        let end = next_base.unwrap_or(durable).min(durable);
        read_segment(partition, file, &path, base, end, cursor, budget, out)?;
    }
    Ok(())
}

/// The segment holding `cursor.next_offset` and the first offset of the one after it,
/// moving a cursor below the earliest retained record up to that record.
fn locate(partition: &Partition, cursor: &mut Cursor) -> Option<(u64, Option<u64>)> {
    let segments = partition.segments();
    let earliest = *segments.first()?;
    if cursor.next_offset < earliest {
        tracing::warn!(
            dir = %partition.dir.display(),
            requested_offset = cursor.next_offset,
            earliest_offset = earliest,
            "records below the requested offset were released and deleted; reading from the earliest retained"
        );
        *cursor = Cursor::at(earliest);
    }
    let index = segments.partition_point(|&base| base <= cursor.next_offset) - 1;
    Some((segments[index], segments.get(index + 1).copied()))
}

/// Reads the records of one segment from the cursor up to offset `end` (exclusive).
#[allow(clippy::too_many_arguments)]
fn read_segment(
    partition: &Partition,
    file: File,
    path: &std::path::Path,
    base: u64,
    end: u64,
    cursor: &mut Cursor,
    budget: &mut Budget,
    out: &mut Vec<StoredRecord>,
) -> Result<(), QueueError> {
    let io = |action| QueueError::io(action, path);
    let file_len = file
        .metadata()
        .map_err(io("read the size of segment"))?
        .len();
    let (mut byte, mut offset) = match cursor.location {
        Some((segment_base, byte)) if segment_base == base => (byte, cursor.next_offset),
        _ => (0, base),
    };
    let mut reader = BufReader::with_capacity(READ_BUFFER, file);
    reader
        .seek(SeekFrom::Start(byte))
        .map_err(io("seek segment"))?;
    while offset < end && budget.records > 0 && budget.bytes > 0 {
        let skip = offset < cursor.next_offset;
        let next = frame::read_frame(&mut reader, file_len.saturating_sub(byte), skip)
            .map_err(io("read segment"))?;
        let corrupt = |reason: &str| QueueError::Corrupt {
            path: path.to_path_buf(),
            position: byte,
            reason: reason.to_owned(),
        };
        let (found, payload, frame_len) = match next {
            Next::Frame {
                offset,
                payload,
                frame_len,
            } => (offset, payload, frame_len),
            // Durable records are whole: anything else here is damage after the fact.
            Next::End => return Err(corrupt("segment ends before its last durable record")),
            Next::Damaged(reason) => return Err(corrupt(reason)),
        };
        if found != offset {
            return Err(corrupt(&format!("expected offset {offset}, found {found}")));
        }
        if let Some(payload) = payload {
            let record = frame::decode(payload).map_err(corrupt)?;
            out.push(StoredRecord {
                position: Position {
                    partition: partition.number,
                    offset,
                },
                record,
            });
            budget.records -= 1;
            budget.bytes = budget.bytes.saturating_sub(frame_len);
        }
        byte += frame_len;
        offset += 1;
        if offset > cursor.next_offset {
            cursor.next_offset = offset;
        }
        if offset == cursor.next_offset {
            cursor.location = Some((base, byte));
        }
    }
    Ok(())
}
