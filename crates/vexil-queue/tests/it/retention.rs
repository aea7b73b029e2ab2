//! Segments roll at their size limit and are deleted once released, never earlier.

use vexil_queue::embedded::EmbeddedOptions;
use vexil_queue::{Consumer, PartitionLag, Position, Producer, Record};

use crate::support::{self, TOPIC};

fn small_segments() -> EmbeddedOptions {
    EmbeddedOptions {
        segment_bytes: 1024,
        ..support::options(1)
    }
}

/// The first offsets of a partition's segment files.
fn bases(root: &std::path::Path) -> Vec<u64> {
    support::segments(root, 0)
        .iter()
        .map(|path| path.file_stem().unwrap().to_str().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn segments_roll_and_only_wholly_released_ones_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let queue = support::open(dir.path(), small_segments()).await;
    let records: Vec<Record> = (0..100)
        .map(|index| support::record("context-1", index))
        .collect();
    for chunk in records.chunks(7) {
        queue.append(TOPIC, chunk).await.unwrap();
    }
    let before = bases(dir.path());
    assert!(
        before.len() > 3,
        "100 records of ~110 bytes fill several 1 KiB segments: {before:?}"
    );
    assert_eq!(before[0], 0);

    let released = 50;
    let subscription = queue
        .subscribe(
            TOPIC,
            &[Position {
                partition: 0,
                offset: released,
            }],
        )
        .await
        .unwrap();
    subscription
        .release(Position {
            partition: 0,
            offset: released,
        })
        .await
        .unwrap();
    let after = bases(dir.path());
    let holding_released = *before
        .iter()
        .filter(|&&base| base <= released)
        .max()
        .unwrap();
    let expected: Vec<u64> = before
        .iter()
        .copied()
        .filter(|&base| base >= holding_released)
        .collect();
    assert_eq!(
        after, expected,
        "segments left after releasing offset {released}"
    );

    let read = support::read_partition(&queue, 0, released, 50).await;
    let read_records: Vec<Record> = read.into_iter().map(|stored| stored.record).collect();
    assert_eq!(read_records, records[50..]);

    // Reading from below the earliest retained record starts at that record, and the
    // deleted records before it are not counted as behind.
    let from_start = support::read_partition(&queue, 0, 0, 1).await;
    assert_eq!(from_start[0].position.offset, holding_released);
    let below_retained = queue
        .subscribe(
            TOPIC,
            &[Position {
                partition: 0,
                offset: 0,
            }],
        )
        .await
        .unwrap();
    assert_eq!(
        below_retained.lag(),
        vec![PartitionLag {
            partition: 0,
            position: holding_released,
            end: 100,
        }]
    );

    // Releasing everything keeps the active segment, which appends still need.
    subscription
        .release(Position {
            partition: 0,
            offset: 100,
        })
        .await
        .unwrap();
    assert_eq!(bases(dir.path()), vec![*before.last().unwrap()]);
    let next = queue
        .append(TOPIC, &[support::record("context-1", 100)])
        .await
        .unwrap();
    assert_eq!(next[0].offset, 100);
}

#[tokio::test]
async fn reading_across_segments_and_after_reopening_keeps_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let queue = support::open(dir.path(), small_segments()).await;
    let records: Vec<Record> = (0..60)
        .map(|index| support::record("context-1", index))
        .collect();
    queue.append(TOPIC, &records).await.unwrap();
    assert!(
        bases(dir.path()).len() > 2,
        "one append rolls across segments"
    );
    queue.close().await;

    let reopened = support::open(dir.path(), small_segments()).await;
    for start in [0, 17, 59] {
        let read = support::read_partition(&reopened, 0, start, 60 - start as usize).await;
        let offsets: Vec<u64> = read.iter().map(|stored| stored.position.offset).collect();
        assert_eq!(
            offsets,
            (start..60).collect::<Vec<_>>(),
            "offsets from {start}"
        );
        let read_records: Vec<Record> = read.into_iter().map(|stored| stored.record).collect();
        assert_eq!(read_records, records[start as usize..]);
    }
}
