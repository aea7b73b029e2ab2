//! The contract every queue implementation passes, written once: the embedded log runs it
//! in `tests/it/contract.rs`, and the Kafka implementation will run the same cases.
//!
//! Each case takes a [`Fixture`]: a producer and a consumer of one implementation and a
//! fresh, empty topic (created by the fixture when the implementation needs that). The
//! [`contract_tests!`](crate::contract_tests) macro turns a fixture function into one
//! `#[tokio::test]` per case.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use crate::{Consumer, Position, Producer, Record, StoredRecord, Subscription};

/// How long a case waits for records it expects before failing.
const DEADLINE: Duration = Duration::from_secs(20);

/// What each case runs against.
pub struct Fixture {
    pub producer: Arc<dyn Producer>,
    pub consumer: Arc<dyn Consumer>,
    /// A topic nothing has been appended to.
    pub topic: String,
    /// Kept alive until the case ends (a temporary directory, a topic to delete).
    pub guard: Box<dyn Any + Send + Sync>,
}

/// One `#[tokio::test]` per contract case, each with a fixture from `$fixture`, an async
/// function returning a [`Fixture`]. Needs tokio (with `macros` and `rt-multi-thread`)
/// in the calling crate's dev-dependencies.
#[macro_export]
macro_rules! contract_tests {
    ($fixture:path) => {
        $crate::contract_tests!(@cases $fixture;
            records_come_back_in_order_per_key_with_headers_and_timestamps,
            offsets_are_dense_per_partition_and_reading_resumes_from_a_supplied_offset,
            a_waiting_reader_wakes_on_append,
            concurrent_appenders_are_all_acknowledged_and_readable,
            the_same_key_always_lands_in_the_same_partition,
            records_from_the_released_offset_on_stay_readable,
        );
    };
    (@cases $fixture:path; $($case:ident,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::contract::$case($fixture().await).await;
            }
        )*
    };
}

/// Values are unique per case, so a record read back is matched to its append.
fn record(key: &str, sequence: usize) -> Record {
    Record::new(
        key.to_owned(),
        format!("{key}/{sequence}"),
        1_700_000_000_000 + sequence as i64,
    )
    .with_header("vexil-payload-id", format!("payload-{sequence}"))
    .with_header(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )
}

/// Reads until `count` records have arrived, failing after [`DEADLINE`].
async fn read_exactly(subscription: &mut dyn Subscription, count: usize) -> Vec<StoredRecord> {
    let mut records = Vec::with_capacity(count);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while records.len() < count {
        let batch =
            tokio::time::timeout_at(deadline, subscription.next_batch(count - records.len()))
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "only {} of {count} records arrived within {DEADLINE:?}",
                        records.len()
                    )
                })
                .expect("reading a batch");
        assert!(!batch.is_empty(), "next_batch returned no records");
        assert!(
            batch.len() <= count,
            "next_batch returned more than max_records"
        );
        records.extend(batch);
    }
    assert_eq!(records.len(), count, "more records than appended");
    records
}

/// Subscribes with every partition starting where its records end, so nothing old is
/// read.
async fn subscribe_at_end(fixture: &Fixture, ends: &BTreeMap<u32, u64>) -> Box<dyn Subscription> {
    let partitions = fixture
        .consumer
        .partitions(&fixture.topic)
        .await
        .expect("partitions");
    let start: Vec<Position> = (0..partitions)
        .map(|partition| Position {
            partition,
            offset: ends.get(&partition).copied().unwrap_or(0),
        })
        .collect();
    fixture
        .consumer
        .subscribe(&fixture.topic, &start)
        .await
        .expect("subscribing")
}

/// Records appended in several batches come back whole (key, value, headers in order,
/// timestamp), each key's in the order appended, at the positions the append returned.
pub async fn records_come_back_in_order_per_key_with_headers_and_timestamps(fixture: Fixture) {
    let keys = [
        "context-a",
        "context-b",
        "context-c",
        "context-d",
        "context-e",
    ];
    let mut appended = Vec::new();
    for batch in 0..4 {
        let records: Vec<Record> = (0..25)
            .map(|index| record(keys[index % keys.len()], batch * 25 + index))
            .collect();
        let positions = fixture
            .producer
            .append(&fixture.topic, &records)
            .await
            .expect("appending");
        assert_eq!(positions.len(), records.len(), "one position per record");
        appended.extend(positions.into_iter().zip(records));
    }
    let mut subscription = fixture
        .consumer
        .subscribe(&fixture.topic, &[])
        .await
        .expect("subscribing");
    let read = read_exactly(subscription.as_mut(), appended.len()).await;
    let by_position: BTreeMap<Position, &Record> = read
        .iter()
        .map(|stored| (stored.position, &stored.record))
        .collect();
    for (position, record) in &appended {
        assert_eq!(
            by_position.get(position),
            Some(&record),
            "record at {position:?}"
        );
    }
    for key in keys {
        let expected: Vec<&Record> = appended
            .iter()
            .map(|(_, record)| record)
            .filter(|record| record.key == key.as_bytes())
            .collect();
        let actual: Vec<&Record> = read
            .iter()
            .map(|stored| &stored.record)
            .filter(|record| record.key == key.as_bytes())
            .collect();
        assert_eq!(actual, expected, "records of key {key} in read order");
    }
}

/// Each partition's offsets run 0, 1, 2, ... without gaps, in read order; a subscription
/// started at an offset reads from exactly that record.
pub async fn offsets_are_dense_per_partition_and_reading_resumes_from_a_supplied_offset(
    fixture: Fixture,
) {
    let records: Vec<Record> = (0..60)
        .map(|index| record(&format!("context-{}", index % 7), index))
        .collect();
    let positions = fixture
        .producer
        .append(&fixture.topic, &records)
        .await
        .expect("appending");
    let mut offsets: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for position in &positions {
        offsets
            .entry(position.partition)
            .or_default()
            .push(position.offset);
    }
    for (partition, offsets) in &offsets {
        let dense: Vec<u64> = (0..offsets.len() as u64).collect();
        assert_eq!(offsets, &dense, "offsets appended to partition {partition}");
    }
    let mut subscription = fixture
        .consumer
        .subscribe(&fixture.topic, &[])
        .await
        .expect("subscribing");
    let read = read_exactly(subscription.as_mut(), records.len()).await;
    let mut read_offsets: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for stored in &read {
        read_offsets
            .entry(stored.position.partition)
            .or_default()
            .push(stored.position.offset);
    }
    assert_eq!(
        read_offsets, offsets,
        "offsets read per partition, in read order"
    );

    // Resume the busiest partition from its middle; every other from its end.
    let (&partition, busiest) = offsets
        .iter()
        .max_by_key(|(_, offsets)| offsets.len())
        .expect("at least one partition");
    let resume = busiest.len() as u64 / 2;
    let mut ends: BTreeMap<u32, u64> = offsets
        .iter()
        .map(|(partition, offsets)| (*partition, offsets.len() as u64))
        .collect();
    ends.insert(partition, resume);
    let mut resumed = subscribe_at_end(&fixture, &ends).await;
    let tail = read_exactly(resumed.as_mut(), busiest.len() - resume as usize).await;
    let expected: Vec<(Position, &Record)> = positions
        .iter()
        .zip(&records)
        .filter(|(position, _)| position.partition == partition && position.offset >= resume)
        .map(|(position, record)| (*position, record))
        .collect();
    let actual: Vec<(Position, &Record)> = tail
        .iter()
        .map(|stored| (stored.position, &stored.record))
        .collect();
    assert_eq!(
        actual, expected,
        "records read from offset {resume} of partition {partition}"
    );

    // Seeking moves a subscription back.
    resumed
        .seek(Position {
            partition,
            offset: 0,
        })
        .expect("seeking");
    let again = read_exactly(resumed.as_mut(), busiest.len()).await;
    assert_eq!(
        again.first().map(|stored| stored.position.offset),
        Some(0),
        "first record after seeking to 0"
    );
}

/// A reader waiting at the end of the topic gets a record appended afterwards, promptly.
pub async fn a_waiting_reader_wakes_on_append(fixture: Fixture) {
    let mut subscription = fixture
        .consumer
        .subscribe(&fixture.topic, &[])
        .await
        .expect("subscribing");
    let reader = tokio::spawn(async move {
        let batch = subscription.next_batch(10).await;
        (batch, tokio::time::Instant::now())
    });
    // Lets the reader park in its wait; the append must wake it from there.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !reader.is_finished(),
        "next_batch returned before any record was appended"
    );
    let appended_at = tokio::time::Instant::now();
    let positions = fixture
        .producer
        .append(&fixture.topic, &[record("context-late", 1)])
        .await
        .expect("appending");
    let (batch, woken_at) = tokio::time::timeout(DEADLINE, reader)
        .await
        .expect("the waiting reader never woke")
        .expect("reader task");
    let batch = batch.expect("reading a batch");
    assert_eq!(batch.len(), 1, "records read by the woken reader");
    assert_eq!(batch[0].position, positions[0]);
    let waited = woken_at.saturating_duration_since(appended_at);
    assert!(
        waited < Duration::from_secs(2),
        "the reader woke {waited:?} after the append began"
    );
}

/// Many tasks appending at once all get positions, no two the same, and every record is
/// read back at its position.
pub async fn concurrent_appenders_are_all_acknowledged_and_readable(fixture: Fixture) {
    const TASKS: usize = 16;
    const BATCHES: usize = 8;
    const PER_BATCH: usize = 10;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let producer = fixture.producer.clone();
        let topic = fixture.topic.clone();
        tasks.push(tokio::spawn(async move {
            let mut appended = Vec::new();
            for batch in 0..BATCHES {
                let records: Vec<Record> = (0..PER_BATCH)
                    .map(|index| {
                        record(
                            &format!("task-{task}-key-{}", index % 3),
                            (task * BATCHES + batch) * PER_BATCH + index,
                        )
                    })
                    .collect();
                let positions = producer.append(&topic, &records).await.expect("appending");
                appended.extend(positions.into_iter().zip(records));
            }
            appended
        }));
    }
    let mut appended = BTreeMap::new();
    for task in tasks {
        for (position, record) in task.await.expect("appending task") {
            assert!(
                appended.insert(position, record).is_none(),
                "position {position:?} given twice"
            );
        }
    }
    assert_eq!(appended.len(), TASKS * BATCHES * PER_BATCH);
    let mut subscription = fixture
        .consumer
        .subscribe(&fixture.topic, &[])
        .await
        .expect("subscribing");
    let read = read_exactly(subscription.as_mut(), appended.len()).await;
    let read: BTreeMap<Position, Record> = read
        .into_iter()
        .map(|stored| (stored.position, stored.record))
        .collect();
    assert_eq!(read, appended, "records read back, by position");
}

/// Records with one key, appended in separate calls among other keys, all go to one
/// partition, the one [`crate::partition_for_key`] names.
pub async fn the_same_key_always_lands_in_the_same_partition(fixture: Fixture) {
    let partitions = fixture
        .consumer
        .partitions(&fixture.topic)
        .await
        .expect("partitions");
    assert!(partitions >= 1, "a topic has at least one partition");
    let mut seen: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for call in 0..10 {
        let records: Vec<Record> = (0..20)
            .map(|index| {
                record(
                    &format!("context-{}", (index * 7 + call) % 13),
                    call * 20 + index,
                )
            })
            .collect();
        let positions = fixture
            .producer
            .append(&fixture.topic, &records)
            .await
            .expect("appending");
        for (position, record) in positions.iter().zip(&records) {
            let key = String::from_utf8(record.key.to_vec()).expect("UTF-8 key");
            assert_eq!(
                position.partition,
                crate::partition_for_key(&record.key, partitions),
                "partition of key {key}"
            );
            seen.entry(key).or_default().insert(position.partition);
        }
    }
    for (key, partitions) in seen {
        assert_eq!(
            partitions.len(),
            1,
            "key {key} went to partitions {partitions:?}"
        );
    }
}

/// Releasing an offset never loses a record at or after it.
pub async fn records_from_the_released_offset_on_stay_readable(fixture: Fixture) {
    let records: Vec<Record> = (0..40)
        .map(|index| record("context-released", index))
        .collect();
    let positions = fixture
        .producer
        .append(&fixture.topic, &records)
        .await
        .expect("appending");
    let partition = positions[0].partition;
    let mut subscription = subscribe_at_end(&fixture, &BTreeMap::from([(partition, 0)])).await;
    let first_half = read_exactly(subscription.as_mut(), 20).await;
    let released = first_half.last().expect("records").position.offset + 1;
    subscription
        .release(Position {
            partition,
            offset: released,
        })
        .await
        .expect("releasing");
    let second_half = read_exactly(subscription.as_mut(), 20).await;
    let expected: Vec<&Record> = records[20..].iter().collect();
    let actual: Vec<&Record> = second_half.iter().map(|stored| &stored.record).collect();
    assert_eq!(actual, expected, "records after the released offset");
    let mut from_released =
        subscribe_at_end(&fixture, &BTreeMap::from([(partition, released)])).await;
    let again = read_exactly(from_released.as_mut(), 20).await;
    assert_eq!(
        again.first().map(|stored| stored.position.offset),
        Some(released)
    );
}
