//! A reader of one embedded topic: a cursor per partition, and the topic's append signal
//! to wait on; in a group, also the membership it ends when dropped.

use std::sync::Arc;

use tokio::sync::watch;

use super::group::Member;
use super::reader::{self, Budget, Cursor};
use super::topic::Topic;
use crate::{BoxFuture, PartitionLag, Position, QueueError, StoredRecord, Subscription};

/// How many bytes of records one `next_batch` reads at most (at least one record).
const BATCH_BYTES: u64 = 4 << 20;

pub(crate) struct EmbeddedSubscription {
    topic: Arc<Topic>,
    cursors: Vec<Cursor>,
    appended: watch::Receiver<u64>,
    /// The partition read first next time, so that a busy partition cannot starve others.
    first_partition: usize,
    /// The group membership of a subscription made by `join`: dropped with it.
    member: Option<Member>,
}

impl EmbeddedSubscription {
    pub(crate) fn new(
        topic: Arc<Topic>,
        start: &[Position],
    ) -> Result<EmbeddedSubscription, QueueError> {
        let mut cursors: Vec<Cursor> = topic
            .partitions
            .iter()
            .map(|partition| Cursor::at(partition.segments().first().copied().unwrap_or(0)))
            .collect();
        for position in start {
            topic.partition(position.partition)?;
            cursors[position.partition as usize] = Cursor::at(position.offset);
        }
        let appended = topic.appended.subscribe();
        Ok(EmbeddedSubscription {
            topic,
            cursors,
            appended,
            first_partition: 0,
            member: None,
        })
    }

    /// Makes this subscription `member`'s, which ends when it is dropped.
    pub(crate) fn with_member(mut self, member: Member) -> EmbeddedSubscription {
        self.member = Some(member);
        self
    }

    pub(crate) fn topic_name(&self) -> &str {
        &self.topic.name
    }

    async fn next(&mut self, max_records: usize) -> Result<Vec<StoredRecord>, QueueError> {
        loop {
            // Marked seen before looking, so an append after the look wakes `changed`.
            self.appended.borrow_and_update();
            let readable = self
                .topic
                .partitions
                .iter()
                .zip(&self.cursors)
                .any(|(partition, cursor)| cursor.next_offset < partition.durable_next());
            if readable {
                let topic = self.topic.clone();
                let mut cursors = self.cursors.clone();
                let first = self.first_partition;
                // Cursors are copied in and written back only on success: dropping this
                // future moves nothing.
                let (records, cursors) = tokio::task::spawn_blocking(move || {
                    read_from(&topic, &mut cursors, first, max_records)
                        .map(|records| (records, cursors))
                })
                .await
                .map_err(|_| QueueError::Closed)??;
                self.cursors = cursors;
                self.first_partition = (first + 1) % self.cursors.len().max(1);
                if !records.is_empty() {
                    return Ok(records);
                }
            }
            // The sender lives in the topic, which this subscription holds.
            self.appended
                .changed()
                .await
                .map_err(|_| QueueError::Closed)?;
        }
    }
}

fn read_from(
    topic: &Topic,
    cursors: &mut [Cursor],
    first: usize,
    max_records: usize,
) -> Result<Vec<StoredRecord>, QueueError> {
    let mut budget = Budget {
        records: max_records.max(1),
        bytes: BATCH_BYTES,
    };
    let mut records = Vec::new();
    let count = topic.partitions.len();
    for step in 0..count {
        let number = (first + step) % count;
        reader::read(
            &topic.partitions[number],
            &mut cursors[number],
            &mut budget,
            &mut records,
        )?;
    }
    Ok(records)
}

impl Subscription for EmbeddedSubscription {
    fn next_batch(
        &mut self,
        max_records: usize,
    ) -> BoxFuture<'_, Result<Vec<StoredRecord>, QueueError>> {
        Box::pin(self.next(max_records))
    }

    fn seek(&mut self, position: Position) -> Result<(), QueueError> {
        self.topic.partition(position.partition)?;
        self.cursors[position.partition as usize] = Cursor::at(position.offset);
        Ok(())
    }

    fn release(&self, position: Position) -> BoxFuture<'_, Result<(), QueueError>> {
        let topic = self.topic.clone();
        Box::pin(async move {
            topic.partition(position.partition)?;
            tokio::task::spawn_blocking(move || {
                topic.partitions[position.partition as usize].release(position.offset)
            })
            .await
            .map_err(|_| QueueError::Closed)?
        })
    }

    fn lag(&self) -> Vec<PartitionLag> {
        self.topic
            .partitions
            .iter()
            .zip(&self.cursors)
            .map(|(partition, cursor)| {
                // A cursor below the earliest retained record reads from that record, so
                // the released records before it are not behind.
                let earliest = partition.segments().first().copied().unwrap_or(0);
                PartitionLag {
                    partition: partition.number,
                    position: cursor.next_offset.max(earliest),
                    end: partition.durable_next(),
                }
            })
            .collect()
    }
}
