//! The consumer loop: reads `EventEnvelope` records, gathers them into per-partition
//! batches, and writes each batch with its end offset in one transaction of the store
//! (`AnalyticsStore::commit`). Offsets live in the store only, so a crash at any point
//! replays exactly the uncommitted records.
//!
//! Two sources run the same loop (`batch.rs`): Kafka in a consumer group (`kafka.rs`:
//! auto-commit off; the group's Kafka offsets are committed afterwards for lag tooling but
//! never read back) and, in `vexil up`'s embedded mode, a `vexil_queue::Consumer`
//! (`embedded.rs`).
//!
//! A record that carries a `traceparent` header (ingest writes the one of the request that
//! produced it) is classified in a span continuing that trace; each partition batch is written
//! in a span linked to the traced records it holds.

mod batch;
mod classify;
mod context;
mod dead_letter;
mod embedded;
mod kafka;

pub use classify::{INVALID_ENVELOPE, INVALID_EVENT, UNDECODABLE_ENVELOPE};
pub use embedded::consume_queue;
pub use kafka::consume;
