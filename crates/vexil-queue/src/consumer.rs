//! The consumer side of a queue: reading a topic's partitions from offsets the caller
//! keeps.
//!
//! The queue does not remember what a reader processed: the analytics worker commits its
//! offsets with its aggregates, in its own store, and hands them back to [`Consumer::subscribe`]
//! when it starts. [`Subscription::release`] only tells the log what it may delete.

use crate::{BoxFuture, Position, QueueError, StoredRecord};

/// Opens subscriptions to topics. Cheap to share (`Arc<dyn Consumer>`).
pub trait Consumer: Send + Sync {
    /// How many partitions `topic` has (fixed when the topic was created).
    fn partitions<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<u32, QueueError>>;

    /// Starts reading `topic`: each partition listed in `start` at its offset, every other
    /// partition at its earliest retained record. An offset below the earliest retained
    /// record reads from that record (its predecessors were released and deleted); an
    /// offset past the end waits for it.
    fn subscribe<'a>(
        &'a self,
        topic: &'a str,
        start: &'a [Position],
    ) -> BoxFuture<'a, Result<Box<dyn Subscription>, QueueError>>;
}

/// One reader's positions in one topic.
pub trait Subscription: Send {
    /// Waits until at least one record is readable at this subscription's positions, then
    /// returns up to `max_records` (at least one) from one or more partitions, each
    /// partition's in offset order, and moves past them. Waiting is a wake-up from the
    /// appender (embedded) or a long fetch (Kafka), never a polling loop.
    ///
    /// Cancel safe: a call dropped before it returns moves no position, so it can sit in
    /// a `select!` beside a shutdown signal.
    fn next_batch(
        &mut self,
        max_records: usize,
    ) -> BoxFuture<'_, Result<Vec<StoredRecord>, QueueError>>;

    /// Moves one partition's position, for example back to an offset the caller's store
    /// holds after a fenced write.
    fn seek(&mut self, position: Position) -> Result<(), QueueError>;

    /// Tells the log that every record of `position.partition` below `position.offset` is
    /// processed and committed by the caller, so it may delete them. Records at or after
    /// the offset are always kept. Not remembered across restarts: a restarted reader
    /// releases again as it commits.
    fn release(&self, position: Position) -> BoxFuture<'_, Result<(), QueueError>>;

    /// How far behind this subscription is: one [`PartitionLag`] per partition it reads,
    /// in partition order. For consumer-lag metrics, so it is cheap and does no I/O: it
    /// answers from what the implementation already knows (the embedded log exactly, from
    /// its cursors and durable offsets; a network implementation from its latest
    /// watermarks, which may trail acknowledged appends by its refresh interval).
    fn lag(&self) -> Vec<PartitionLag>;
}

/// One partition's place in a [`Subscription`] against the partition's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartitionLag {
    pub partition: u32,
    /// The offset `next_batch` reads next in this partition (the earliest retained record
    /// when the subscription's offset is below it).
    pub position: u64,
    /// The offset the next appended record will take: records below it are durable
    /// (Kafka's high watermark).
    pub end: u64,
}

impl PartitionLag {
    /// Records appended and not yet read: 0 when the position is at or past the end.
    pub fn records(&self) -> u64 {
        self.end.saturating_sub(self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::PartitionLag;

    #[test]
    fn records_behind_count_from_the_position_and_are_never_negative() {
        let lag = |position, end| PartitionLag {
            partition: 0,
            position,
            end,
        };
        assert_eq!(lag(2, 10).records(), 8);
        assert_eq!(lag(10, 10).records(), 0);
        assert_eq!(lag(12, 10).records(), 0, "a position past the end waits");
    }
}
