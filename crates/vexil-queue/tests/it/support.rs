//! Opening a queue in a temporary directory, and reading a partition back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use vexil_queue::embedded::{EmbeddedOptions, EmbeddedQueue};
use vexil_queue::{Consumer, Position, Record, StoredRecord};

pub const TOPIC: &str = "vexil.sdk-events.v1";

pub fn options(partitions: u32) -> EmbeddedOptions {
    EmbeddedOptions {
        partitions,
        ..EmbeddedOptions::default()
    }
}

pub async fn open(dir: &Path, options: EmbeddedOptions) -> EmbeddedQueue {
    EmbeddedQueue::open(dir, options)
        .await
        .expect("opening the queue")
}

pub fn record(key: &str, sequence: usize) -> Record {
    Record::new(
        key.to_owned(),
        format!("{key}/{sequence}/{}", "x".repeat(40)),
        sequence as i64,
    )
    .with_header("vexil-payload-id", format!("payload-{sequence}"))
}

/// The directory of one partition of [`TOPIC`].
pub fn partition_dir(root: &Path, partition: u32) -> PathBuf {
    root.join(TOPIC).join(partition.to_string())
}

/// The segment files of a partition, oldest first.
pub fn segments(root: &Path, partition: u32) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(partition_dir(root, partition))
        .expect("listing the partition")
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    files.sort();
    files
}

/// Reads `count` records of one partition from `offset`, nothing from the others, failing
/// after a deadline.
pub async fn read_partition(
    queue: &EmbeddedQueue,
    partition: u32,
    offset: u64,
    count: usize,
) -> Vec<StoredRecord> {
    let partitions = queue.partitions(TOPIC).await.expect("partitions");
    let start: Vec<Position> = (0..partitions)
        .map(|number| Position {
            partition: number,
            offset: if number == partition {
                offset
            } else {
                u64::MAX
            },
        })
        .collect();
    let mut subscription = queue.subscribe(TOPIC, &start).await.expect("subscribing");
    let mut records = Vec::new();
    while records.len() < count {
        let batch = tokio::time::timeout(
            Duration::from_secs(20),
            subscription.next_batch(count - records.len()),
        )
        .await
        .unwrap_or_else(|_| panic!("only {} of {count} records arrived", records.len()))
        .expect("reading");
        records.extend(batch);
    }
    records
}
