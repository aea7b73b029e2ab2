//! Contract cases about acknowledging and delivering records: waking readers, concurrent
//! appenders, and releasing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::{read_exactly, record, subscribe_at_end, Fixture, DEADLINE};
use crate::{Header, Position, Record};

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
    let positions = fixture
        .producer
        .append(&fixture.topic, &[record("context-late", 1)])
        .await
        .expect("appending");
    // Measured from the acknowledgement, so a slow disk does not count against the reader.
    let acknowledged_at = tokio::time::Instant::now();
    let (batch, woken_at) = tokio::time::timeout(DEADLINE, reader)
        .await
        .expect("the waiting reader never woke")
        .expect("reader task");
    let batch = batch.expect("reading a batch");
    assert_eq!(batch.len(), 1, "records read by the woken reader");
    assert_eq!(batch[0].position, positions[0]);
    let waited = woken_at.saturating_duration_since(acknowledged_at);
    assert!(
        waited < Duration::from_secs(2),
        "the reader got the record {waited:?} after its append was acknowledged"
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

/// Once `append_all` returns, every record it was given is readable, with the headers its
/// call shared, in order per key across one task's calls; concurrent callers lose nothing.
pub async fn every_record_is_readable_once_append_all_returns(fixture: Fixture) {
    const TASKS: usize = 8;
    const BATCHES: usize = 4;
    const PER_BATCH: usize = 25;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let producer = fixture.producer.clone();
        let topic = fixture.topic.clone();
        tasks.push(tokio::spawn(async move {
            let mut appended = Vec::new();
            for batch in 0..BATCHES {
                let headers: Arc<[Header]> = Arc::new([
                    Header {
                        name: "vexil-payload-id".to_owned(),
                        value: Bytes::from(format!("payload-{task}-{batch}")),
                    },
                    Header {
                        name: "traceparent".to_owned(),
                        value: Bytes::from_static(
                            b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                        ),
                    },
                ]);
                let records: Vec<Record> = (0..PER_BATCH)
                    .map(|index| {
                        let sequence = (task * BATCHES + batch) * PER_BATCH + index;
                        let key = format!("task-{task}-key-{}", index % 3);
                        Record {
                            headers: headers.clone(),
                            ..Record::new(key.clone(), format!("{key}/{sequence}"), 7)
                        }
                    })
                    .collect();
                producer
                    .append_all(&topic, &records)
                    .await
                    .expect("appending");
                appended.extend(records);
            }
            appended
        }));
    }
    let mut appended: BTreeMap<Bytes, Vec<Record>> = BTreeMap::new();
    for task in tasks {
        for record in task.await.expect("appending task") {
            appended.entry(record.key.clone()).or_default().push(record);
        }
    }
    let mut subscription = fixture
        .consumer
        .subscribe(&fixture.topic, &[])
        .await
        .expect("subscribing");
    let mut read = read_exactly(subscription.as_mut(), TASKS * BATCHES * PER_BATCH).await;
    read.sort_by_key(|stored| stored.position);
    let mut read_by_key: BTreeMap<Bytes, Vec<Record>> = BTreeMap::new();
    for stored in read {
        read_by_key
            .entry(stored.record.key.clone())
            .or_default()
            .push(stored.record);
    }
    assert_eq!(read_by_key, appended, "records read back, per key in order");
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
