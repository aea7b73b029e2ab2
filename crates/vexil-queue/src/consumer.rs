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
}
