//! The one error type of every queue operation, whatever the implementation.

use std::path::PathBuf;

/// Why a queue operation failed. Messages name the topic, partition, file or option
/// involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    #[error("invalid topic name `{topic}`: {reason}")]
    InvalidTopic { topic: String, reason: &'static str },
    #[error("topic {topic} has no partition {partition} (it has {partitions})")]
    UnknownPartition {
        topic: String,
        partition: u32,
        partitions: u32,
    },
    #[error("record {index} of the batch to topic {topic} is {bytes} bytes, more than max_record_bytes ({limit})")]
    RecordTooLarge {
        topic: String,
        index: usize,
        bytes: usize,
        limit: usize,
    },
    /// Some of the records may still become durable later: producers retry, consumers
    /// de-duplicate.
    #[error("the records to topic {topic} were not durable within {timeout_ms} ms")]
    TimedOut { topic: String, timeout_ms: u128 },
    #[error("queue directory {path} is not a directory")]
    NotADirectory { path: PathBuf },
    #[error(
        "queue directory {path} is in use by another process or queue (lock file {lock} is held)"
    )]
    Locked { path: PathBuf, lock: PathBuf },
    #[error("failed to {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("corrupt queue data in {path} at byte {position}: {reason}")]
    Corrupt {
        path: PathBuf,
        position: u64,
        reason: String,
    },
    /// A write or `fsync` failed: what reached the disk is unknown until the log is
    /// reopened (and its tail checked), so the partition refuses further records.
    #[error(
        "partition {partition} of topic {topic} refuses records after a failed write: {reason}"
    )]
    PartitionFailed {
        topic: String,
        partition: u32,
        reason: String,
    },
    /// The embedded log's groups have one member: another subscription of this process
    /// holds the group.
    #[error("consumer group {group} of topic {topic} already has a member (the embedded queue's groups have one)")]
    GroupTaken { topic: String, group: String },
    /// A group member asked about a partition the group gave to another member (or not yet
    /// to this one).
    #[error("partition {partition} of topic {topic} is not assigned to this group member")]
    NotAssigned { topic: String, partition: u32 },
    #[error("the queue is closed")]
    Closed,
    /// A flush gave up with records still on their way: they may yet be written, or lost.
    #[error("{records} records were still unacknowledged after {timeout_ms} ms")]
    Unflushed { records: u64, timeout_ms: u128 },
    #[cfg(feature = "kafka")]
    #[error("failed to create the Kafka {role} for brokers {brokers}")]
    KafkaClient {
        role: &'static str,
        brokers: String,
        #[source]
        source: Box<rdkafka::error::KafkaError>,
    },
    /// Librdkafka or the brokers refused or failed an operation; for an append, some of
    /// the records may still have been written.
    #[cfg(feature = "kafka")]
    #[error("failed to {action} topic {topic} on Kafka")]
    Kafka {
        action: &'static str,
        topic: String,
        #[source]
        source: Box<rdkafka::error::KafkaError>,
    },
    /// A broker acknowledged a record without saying where it is, so its position cannot
    /// be returned.
    #[error(
        "the brokers acknowledged record {index} of the batch to topic {topic} without its offset"
    )]
    NoOffset { topic: String, index: usize },
}

impl QueueError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> QueueError {
        let path = path.into();
        move |source| QueueError::Io {
            action,
            path,
            source,
        }
    }
}
