//! One partition: its segment list, how far it is durable, and its active segment (which
//! only the writer thread touches).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::frame;
use super::segment;
use crate::QueueError;

pub(crate) struct Partition {
    pub number: u32,
    pub dir: PathBuf,
    /// First offsets of the segments, oldest first; the last one is being appended to.
    segments: Mutex<Vec<u64>>,
    /// Records below this offset are synced to disk; readers never look past it.
    durable_next: AtomicU64,
    active: Mutex<Active>,
}

struct Active {
    file: File,
    base: u64,
    len: u64,
    /// The next offset to write (at or past `durable_next`).
    next_offset: u64,
    /// Set after a failed write or sync: what is on disk is unknown until reopening.
    failure: Option<String>,
}

/// A batch of encoded frames for one partition; `frame_ends[i]` is where frame `i` ends.
pub(crate) struct Frames {
    pub bytes: Vec<u8>,
    pub frame_ends: Vec<usize>,
}

impl Partition {
    /// Opens the partition in `dir`, creating it (with an empty segment at offset 0) when
    /// it does not exist, and cuts a torn tail off its newest segment.
    pub(crate) fn open(dir: PathBuf, number: u32) -> Result<Partition, QueueError> {
        std::fs::create_dir_all(&dir)
            .map_err(QueueError::io("create partition directory", &dir))?;
        let mut bases = segment::list(&dir)?;
        let newest = match bases.last() {
            Some(&base) => base,
            None => {
                segment::create(&dir, 0)?;
                bases.push(0);
                0
            }
        };
        let recovered = segment::recover(&dir, newest)?;
        Ok(Partition {
            number,
            dir,
            segments: Mutex::new(bases),
            durable_next: AtomicU64::new(recovered.next_offset),
            active: Mutex::new(Active {
                file: recovered.file,
                base: newest,
                len: recovered.len,
                next_offset: recovered.next_offset,
                failure: None,
            }),
        })
    }

    /// The offset after the last durable record.
    pub(crate) fn durable_next(&self) -> u64 {
        self.durable_next.load(Ordering::Acquire)
    }

    /// First offsets of the segments, oldest first.
    pub(crate) fn segments(&self) -> MutexGuard<'_, Vec<u64>> {
        self.segments
            .lock()
            .expect("segment list lock is never poisoned: nothing panics holding it")
    }

    fn active(&self) -> MutexGuard<'_, Active> {
        self.active
            .lock()
            .expect("active segment lock is never poisoned: nothing panics holding it")
    }

    /// Writes `frames` (not yet synced), stamping their offsets, rolling to a new segment
    /// whenever the active one has reached `segment_bytes`. Returns the first offset.
    pub(crate) fn write(
        &self,
        topic: &str,
        frames: &mut Frames,
        segment_bytes: u64,
    ) -> Result<u64, QueueError> {
        let mut active = self.active();
        if let Some(reason) = &active.failure {
            return Err(self.failed(topic, reason.clone()));
        }
        let first = active.next_offset;
        let mut start = 0;
        for (index, &end) in frames.frame_ends.iter().enumerate() {
            frame::set_offset(&mut frames.bytes[start..end], first + index as u64);
            start = end;
        }
        let result = self.write_runs(&mut active, frames, first, segment_bytes);
        if let Err(error) = &result {
            // A partial write would leave bytes no offset accounts for: cut them off, or
            // refuse everything until the log is reopened and its tail checked.
            let length_restored = active.file.set_len(active.len).is_ok();
            if !length_restored {
                active.failure = Some(error.to_string());
            }
        }
        result.map(|()| first)
    }

    fn write_runs(
        &self,
        active: &mut Active,
        frames: &Frames,
        first: u64,
        segment_bytes: u64,
    ) -> Result<(), QueueError> {
        let (mut run_start, mut run_records, mut start) = (0usize, 0u64, 0usize);
        for &end in &frames.frame_ends {
            let run_len = (start - run_start) as u64;
            if active.len + run_len >= segment_bytes && active.len + run_len > 0 {
                self.write_run(active, &frames.bytes[run_start..start], run_records)?;
                self.roll(active)?;
                (run_start, run_records) = (start, 0);
            }
            run_records += 1;
            start = end;
        }
        self.write_run(active, &frames.bytes[run_start..start], run_records)?;
        debug_assert_eq!(active.next_offset, first + frames.frame_ends.len() as u64);
        Ok(())
    }

    fn write_run(&self, active: &mut Active, bytes: &[u8], records: u64) -> Result<(), QueueError> {
        if bytes.is_empty() {
            return Ok(());
        }
        active.file.write_all(bytes).map_err(QueueError::io(
            "write segment",
            segment::path(&self.dir, active.base),
        ))?;
        active.len += bytes.len() as u64;
        active.next_offset += records;
        Ok(())
    }

    /// Syncs the full active segment and starts the next one. The old one is synced first
    /// so that only the newest segment of a partition can ever have a torn tail.
    fn roll(&self, active: &mut Active) -> Result<(), QueueError> {
        if let Err(source) = active.file.sync_data() {
            let error = QueueError::Io {
                action: "sync segment",
                path: segment::path(&self.dir, active.base),
                source,
            };
            // As in `sync`: the unsynced pages may be gone, whatever a retry reports.
            active.failure = Some(error.to_string());
            return Err(error);
        }
        let base = active.next_offset;
        active.file = segment::create(&self.dir, base)?;
        active.base = base;
        active.len = 0;
        self.segments().push(base);
        Ok(())
    }

    /// Syncs what [`Partition::write`] wrote and lets readers see it. After a failed sync
    /// the partition refuses records: the kernel may have dropped the unsynced pages.
    pub(crate) fn sync(&self, topic: &str) -> Result<(), QueueError> {
        let mut active = self.active();
        if let Some(reason) = &active.failure {
            return Err(self.failed(topic, reason.clone()));
        }
        if let Err(source) = active.file.sync_data() {
            let error = QueueError::Io {
                action: "sync segment",
                path: segment::path(&self.dir, active.base),
                source,
            };
            active.failure = Some(error.to_string());
            return Err(error);
        }
        self.durable_next
            .store(active.next_offset, Ordering::Release);
        Ok(())
    }

    /// Deletes the segments whose records are all below `offset`, never the active one.
    pub(crate) fn release(&self, offset: u64) -> Result<(), QueueError> {
        let offset = offset.min(self.durable_next());
        let removable: Vec<u64> = {
            let mut segments = self.segments();
            // Segment i holds offsets below segments[i + 1].
            let keep_from = segments
                .windows(2)
                .take_while(|pair| pair[1] <= offset)
                .count();
            segments.drain(..keep_from).collect()
        };
        if removable.is_empty() {
            return Ok(());
        }
        for base in &removable {
            let path = segment::path(&self.dir, *base);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(QueueError::Io {
                        action: "delete released segment",
                        path,
                        source,
                    })
                }
            }
        }
        segment::sync_dir(&self.dir)?;
        tracing::debug!(
            dir = %self.dir.display(),
            segments = removable.len(),
            released_offset = offset,
            "deleted released queue segments"
        );
        Ok(())
    }

    fn failed(&self, topic: &str, reason: String) -> QueueError {
        QueueError::PartitionFailed {
            topic: topic.to_owned(),
            partition: self.number,
            reason,
        }
    }
}

/// The directory of partition `number` of the topic in `topic_dir`.
pub(crate) fn dir(topic_dir: &Path, number: u32) -> PathBuf {
    topic_dir.join(number.to_string())
}
