//! The consumer side of a queue: reading a topic's partitions from offsets the caller
//! keeps.
//!
//! The queue does not remember what a reader processed: the analytics worker commits its
//! offsets with its aggregates, in its own store, and hands them back to [`Consumer::subscribe`]
//! when it starts, or to [`Assignments::assigned`] when it joins a group and partitions are
//! given to it. [`Subscription::release`] only tells the log what it may delete (and, in a
//! Kafka group, shows progress to the group's tooling).

use std::sync::Arc;

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

    /// Starts reading `topic` as a member of consumer group `group`: the members of one
    /// group share the topic's partitions, each partition read by one member at a time.
    /// Partitions are given and taken while the subscription is read (`next_batch`);
    /// `assignments` is told each change and answers where given partitions start (the
    /// caller's stored offsets, as for [`Consumer::subscribe`]). The subscription reads,
    /// seeks, releases and lists lag of the partitions it holds only. Dropping it leaves
    /// the group, revoking its partitions.
    ///
    /// The embedded log's groups have a single member: a second `join` of the same topic
    /// and group while the first subscription lives is refused
    /// ([`QueueError::GroupTaken`]).
    fn join<'a>(
        &'a self,
        topic: &'a str,
        group: &'a str,
        assignments: Arc<dyn Assignments>,
    ) -> BoxFuture<'a, Result<Box<dyn Subscription>, QueueError>>;
}

/// What a group member is told about the partitions it reads, and where it starts them.
pub trait Assignments: Send + Sync {
    /// `partitions` of `topic` were just given to this member, before any of their records
    /// are read. Returns the start of those the caller has stored (the others start at their
    /// earliest retained record; positions of partitions not given are ignored).
    /// Synchronous and quick: Kafka calls it from librdkafka's rebalance callback.
    fn assigned(&self, topic: &str, partitions: &[u32]) -> Vec<Position>;

    /// `partitions` were taken from this member. Records of them already returned may
    /// still be committed by the caller; its own offset guard decides (the worker's store
    /// fences a stale write).
    fn revoked(&self, topic: &str, partitions: &[u32]);
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
    /// holds after a fenced write. In a group, only a partition the member holds
    /// ([`QueueError::NotAssigned`] otherwise).
    fn seek(&mut self, position: Position) -> Result<(), QueueError>;

    /// Tells the log that every record of `position.partition` below `position.offset` is
    /// processed and committed by the caller, so it may delete them. Records at or after
    /// the offset are always kept. Not remembered across restarts: a restarted reader
    /// releases again as it commits. In a Kafka group it also commits `position` to the
    /// group, asynchronously and for tooling only (`kafka-consumer-groups --describe`):
    /// nothing reads it back.
    fn release(&self, position: Position) -> BoxFuture<'_, Result<(), QueueError>>;

    /// How far behind this subscription is: one [`PartitionLag`] per partition it reads
    /// (in a group, per partition it holds), in partition order. For consumer-lag metrics, so it is cheap and does no I/O: it
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
