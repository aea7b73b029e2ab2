//! The partitions a Kafka subscription reads now, one [`Cursor`] each: the one owner of its
//! positions, for a manual subscription (every partition, from the start) and a group
//! member (the partitions the group gives it, while it holds them) alike.
//!
//! A group's rebalances change the set from librdkafka's callback while the subscription
//! waits for records, so the subscription shares it behind a lock, which is never held
//! across an await or a librdkafka poll (the callback runs inside one).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::cursor::{Cursor, Verdict};
use super::watermarks::Watermarks;
use crate::{PartitionLag, Position, QueueError};

pub(super) type SharedPartitions = Arc<Mutex<Partitions>>;

pub(super) struct Partitions {
    topic: String,
    /// How many partitions the topic has.
    count: u32,
    cursors: BTreeMap<u32, Cursor>,
    watermarks: Arc<Watermarks>,
}

impl Partitions {
    /// Reads no partition until [`Partitions::assign`].
    pub(super) fn new(topic: &str, count: u32, watermarks: Arc<Watermarks>) -> Partitions {
        Partitions {
            topic: topic.to_owned(),
            count,
            cursors: BTreeMap::new(),
            watermarks,
        }
    }

    /// Takes the topic's partition count, once known.
    pub(super) fn set_count(&mut self, count: u32) {
        self.count = count;
    }

    pub(super) fn shared(self) -> SharedPartitions {
        Arc::new(Mutex::new(self))
    }

    /// Starts reading `partition` at `start`, or at its earliest retained record.
    pub(super) fn assign(&mut self, partition: u32, start: Option<u64>) {
        let earliest = self.earliest(partition);
        let cursor = match start {
            Some(offset) => Cursor::moved_to(offset, earliest),
            None => Cursor::at_earliest(earliest),
        };
        self.cursors.insert(partition, cursor);
    }

    /// Stops reading `partition`: its records are dropped from now on.
    pub(super) fn revoke(&mut self, partition: u32) {
        self.cursors.remove(&partition);
    }

    /// The partitions read now, in order.
    pub(super) fn held(&self) -> Vec<u32> {
        self.cursors.keys().copied().collect()
    }

    /// Fails unless `partition` is read now, naming why.
    pub(super) fn check(&self, partition: u32) -> Result<(), QueueError> {
        if partition >= self.count {
            return Err(QueueError::UnknownPartition {
                topic: self.topic.clone(),
                partition,
                partitions: self.count,
            });
        }
        if !self.cursors.contains_key(&partition) {
            return Err(QueueError::NotAssigned {
                topic: self.topic.clone(),
                partition,
            });
        }
        Ok(())
    }

    /// Moves a partition read now to `position` (librdkafka's fetch position is the
    /// caller's to move).
    pub(super) fn seek(&mut self, position: Position) -> Result<(), QueueError> {
        self.check(position.partition)?;
        let earliest = self.earliest(position.partition);
        self.cursors.insert(
            position.partition,
            Cursor::moved_to(position.offset, earliest),
        );
        Ok(())
    }

    /// What to do with a record of `partition` at `offset`; `None` when the partition is
    /// not read now (its records are dropped). A delivered record moves the position.
    pub(super) fn on_record(&mut self, partition: u32, offset: u64) -> Option<Verdict> {
        let earliest = self.earliest(partition);
        let verdict = self
            .cursors
            .get_mut(&partition)?
            .on_record(offset, earliest);
        if verdict == Verdict::Deliver {
            self.watermarks.observe(partition as usize, offset);
        }
        Some(verdict)
    }

    /// The offset `partition` reads next, if it is read now.
    pub(super) fn next(&self, partition: u32) -> Option<u64> {
        self.cursors.get(&partition).map(Cursor::next)
    }

    /// Whether a moved cursor waits to learn that its partition holds records past it.
    pub(super) fn awaits_ends(&self) -> bool {
        self.cursors.values().any(Cursor::is_moved)
    }

    /// The earliest stall deadline of a moved cursor waiting for records it knows exist.
    pub(super) fn stall_deadline(&mut self, stall: Duration) -> Option<Instant> {
        let watermarks = self.watermarks.get();
        self.cursors
            .iter_mut()
            .filter_map(|(&partition, cursor)| {
                let end = watermarks.get(partition as usize)?.end;
                cursor.stall_deadline(end, stall)
            })
            .min()
    }

    /// The partitions whose moved cursor waited past its stall deadline: they are to be
    /// read again from their beginning.
    pub(super) fn stalled(&mut self, stall: Duration) -> Vec<u32> {
        let now = Instant::now();
        let watermarks = self.watermarks.get();
        let mut stalled = Vec::new();
        for (&partition, cursor) in &mut self.cursors {
            let Some(watermark) = watermarks.get(partition as usize) else {
                continue;
            };
            if cursor.rewind_if_stalled(now, watermark.end, stall) {
                tracing::warn!(
                    topic = %self.topic,
                    partition,
                    expected_offset = cursor.next(),
                    end = watermark.end,
                    "no records arrived after a seek although the partition holds some; reading it again from its beginning"
                );
                stalled.push(partition);
            }
        }
        stalled
    }

    /// One entry per partition read now, in order.
    pub(super) fn lag(&self) -> Vec<PartitionLag> {
        let watermarks = self.watermarks.get();
        self.cursors
            .iter()
            .map(|(&partition, cursor)| {
                let watermark = watermarks
                    .get(partition as usize)
                    .copied()
                    .unwrap_or_default();
                PartitionLag {
                    partition,
                    // A position below the earliest retained record reads from that record.
                    position: cursor.next().max(watermark.earliest),
                    end: watermark.end,
                }
            })
            .collect()
    }

    fn earliest(&self, partition: u32) -> u64 {
        self.watermarks
            .get()
            .get(partition as usize)
            .map_or(0, |watermark| watermark.earliest)
    }
}

/// Locks the shared partitions.
pub(super) fn lock(partitions: &SharedPartitions) -> MutexGuard<'_, Partitions> {
    partitions
        .lock()
        .expect("the partitions lock is never poisoned: nothing panics holding it")
}
