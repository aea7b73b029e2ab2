//! The producer side of a queue: appending records durably.

use std::time::Duration;

use crate::{BoxFuture, Position, QueueError, Record};

/// Appends records to a topic. Implementations are cheap to share (`Arc<dyn Producer>`)
/// and safe to call concurrently; concurrent appends may share one disk sync or one
/// network round trip.
pub trait Producer: Send + Sync {
    /// Appends `records` to `topic`, each to the partition of its key
    /// ([`crate::partition_for_key`]), and returns once every one of them is durable: synced
    /// to disk (embedded) or acknowledged by all in-sync replicas (Kafka). Records with
    /// equal keys keep their order within the call and across calls from one task.
    ///
    /// Returns each record's position, in the order given. Fails with
    /// [`QueueError::TimedOut`] when that does not happen within the implementation's
    /// append timeout; after any error some records may have been written, so a retry can
    /// duplicate them (consumers de-duplicate, as with Kafka's at-least-once delivery).
    fn append<'a>(
        &'a self,
        topic: &'a str,
        records: &'a [Record],
    ) -> BoxFuture<'a, Result<Vec<Position>, QueueError>>;

    /// [`Producer::append`] for a caller that needs no positions (event ingest): the same
    /// durability, ordering, timeout and all-or-error contract, returning `Ok(())` once
    /// every record is durable. It exists so an implementation can skip tracking where
    /// each record went: Kafka's then counts acknowledgements down on one shared counter
    /// per call instead of one allocation and one lock per record. The default appends and
    /// drops the positions.
    fn append_all<'a>(
        &'a self,
        topic: &'a str,
        records: &'a [Record],
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move { self.append(topic, records).await.map(drop) })
    }

    /// Gives records still on their way (those of appends that timed out or were dropped,
    /// which a network client may still be sending) up to `timeout` to become durable;
    /// called once at shutdown. An implementation with nothing of its own left to send has
    /// nothing to do (the default): the embedded log's writer finishes what it took before
    /// the queue closes.
    fn flush(&self, timeout: Duration) -> BoxFuture<'_, Result<(), QueueError>> {
        let _ = timeout;
        Box::pin(std::future::ready(Ok(())))
    }
}
