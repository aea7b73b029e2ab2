//! The event queue between event ingest and the analytics worker, behind two traits:
//! [`Producer`] appends records to a topic and returns once they are durable; [`Consumer`]
//! reads them back per partition from offsets the caller keeps, waiting for new ones, alone
//! or as a member of a consumer group whose partitions start where the caller's
//! [`Assignments`] say.
//!
//! Owns the traits, the record types, the key-to-partition rule ([`partition_for_key`]),
//! the embedded durable log `vexil up` runs instead of Kafka ([`embedded`]), the
//! implementation on Kafka (`kafka`, feature `kafka`), and the contract tests every
//! implementation passes (`contract`, feature `contract`). Never
//! depends on another Vexil crate, and never interprets a record's bytes.
//!
//! The traits are object safe (`Arc<dyn Producer>`, `Arc<dyn Consumer>`, `Box<dyn
//! Subscription>`): the services pick an implementation at startup from configuration,
//! so one build serves both Kafka and the embedded mode, and a boxed future per call costs
//! nothing next to an `fsync` or a network round trip.
//!
//! Start with `producer.rs` and `consumer.rs`, then `embedded/mod.rs`; the on-disk format
//! and the durability guarantee are in this crate's `README.md`.

mod consumer;
#[cfg(feature = "contract")]
pub mod contract;
pub mod embedded;
mod error;
#[cfg(feature = "kafka")]
pub mod kafka;
mod partitioner;
mod producer;
mod record;

pub use consumer::{Assignments, Consumer, PartitionLag, Subscription};
pub use error::QueueError;
pub use partitioner::partition_for_key;
pub use producer::Producer;
pub use record::{Header, Position, Record, StoredRecord};

use std::future::Future;
use std::pin::Pin;

/// The future every trait method returns: boxed so the traits stay object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
