//! The producer side of a queue: appending records durably.

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
}
