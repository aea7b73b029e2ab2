//! The consumer loop: reads `EventEnvelope` records, gathers them into per-partition
//! batches, and writes each batch with its end offset in one transaction of the store
//! (`AnalyticsStore::commit`). Offsets live in the store only, so a crash at any point
//! replays exactly the uncommitted records.
//!
//! One source feeds the loop (`batch.rs`) in both modes: a `vexil_queue::Consumer` joined
//! to the group `kafka.group_id` (`queue.rs`), Kafka's `KafkaConsumer` standalone (several
//! replicas share the partitions; the group's Kafka offsets are committed after the store's
//! for lag tooling but never read back) or `vexil up`'s embedded queue (a group of one).
//!
//! A record that carries a `traceparent` header (ingest writes the one of the request that
//! produced it) is classified in a span continuing that trace; each partition batch is written
//! in a span linked to the traced records it holds.

mod batch;
mod classify;
mod dead_letter;
mod queue;

pub use classify::{INVALID_ENVELOPE, INVALID_EVENT, UNDECODABLE_ENVELOPE};
pub use queue::{consume, consume_queue};
