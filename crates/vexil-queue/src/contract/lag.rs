//! Contract cases about [`Subscription::lag`]: each partition's position against its end,
//! as records are appended, read and sought.

use std::collections::BTreeMap;

use super::{read_exactly, record, subscribe_at_end, Fixture, DEADLINE};
use crate::{PartitionLag, Position, Record, Subscription};

/// How often [`expect_lag`] asks again while the answer is not yet the expected one.
const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(20);

/// A fresh topic has nothing behind: every partition is listed once, in order, at 0 of 0.
pub async fn lag_is_zero_on_an_empty_topic(fixture: Fixture) {
    let partitions = partitions(&fixture).await;
    let subscription = fixture
        .consumer
        .subscribe(&fixture.topic, &[])
        .await
        .expect("subscribing");
    expect_lag(subscription.as_ref(), &lags(partitions, &BTreeMap::new())).await;
}

/// Each append moves its partitions' ends, each `next_batch` their positions, by exactly
/// the records it appended or returned.
pub async fn lag_grows_with_appends_and_shrinks_as_records_are_read(fixture: Fixture) {
    let partitions = partitions(&fixture).await;
    let mut subscription = fixture
        .consumer
        .subscribe(&fixture.topic, &[])
        .await
        .expect("subscribing");
    // Per partition: (position, end).
    let mut expected: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    let mut sequence = 0;
    for round in 0..2 {
        let records: Vec<Record> = (0..12)
            .map(|index| {
                sequence += 1;
                record(&format!("context-{}", (index * 5 + round) % 9), sequence)
            })
            .collect();
        let positions = fixture
            .producer
            .append(&fixture.topic, &records)
            .await
            .expect("appending");
        for position in positions {
            let entry = expected.entry(position.partition).or_default();
            entry.1 = entry.1.max(position.offset + 1);
        }
        expect_lag(subscription.as_ref(), &lags(partitions, &expected)).await;
    }
    let total = sequence;
    let mut read = 0;
    while read < total {
        let batch = read_exactly(subscription.as_mut(), 5.min(total - read)).await;
        read += batch.len();
        for stored in batch {
            let entry = expected.entry(stored.position.partition).or_default();
            entry.0 = stored.position.offset + 1;
        }
        expect_lag(subscription.as_ref(), &lags(partitions, &expected)).await;
    }
}

/// The position is the one `next_batch` reads next: where the subscription started, then
/// wherever `seek` moved it, back or forward, and only in the partition sought.
pub async fn lag_follows_the_start_offset_and_seek(fixture: Fixture) {
    let partitions = partitions(&fixture).await;
    let records: Vec<Record> = (0..10)
        .map(|index| record("context-sought", index))
        .collect();
    let positions = fixture
        .producer
        .append(&fixture.topic, &records)
        .await
        .expect("appending");
    let partition = positions[0].partition;
    let at = |offset: u64| BTreeMap::from([(partition, (offset, 10))]);
    let mut subscription = subscribe_at_end(&fixture, &BTreeMap::from([(partition, 4)])).await;
    expect_lag(subscription.as_ref(), &lags(partitions, &at(4))).await;
    for offset in [1, 7, 10, 0] {
        subscription
            .seek(Position { partition, offset })
            .expect("seeking");
        expect_lag(subscription.as_ref(), &lags(partitions, &at(offset))).await;
    }
    read_exactly(subscription.as_mut(), 10).await;
    expect_lag(subscription.as_ref(), &lags(partitions, &at(10))).await;
}

/// Records appended to one partition are behind in that partition only; reading one
/// partition or seeking another leaves the rest as they were.
pub async fn lag_is_per_partition(fixture: Fixture) {
    let partitions = partitions(&fixture).await;
    assert!(
        partitions >= 2,
        "this case needs a topic with at least two partitions, the fixture's has {partitions}"
    );
    let first_key = "context-first";
    let first = crate::partition_for_key(first_key.as_bytes(), partitions);
    let (second_key, second) = (0..)
        .map(|index| format!("context-second-{index}"))
        .map(|key| {
            let partition = crate::partition_for_key(key.as_bytes(), partitions);
            (key, partition)
        })
        .find(|(_, partition)| *partition != first)
        .expect("some key lands in another partition");
    let records: Vec<Record> = (0..5)
        .map(|index| record(first_key, index))
        .chain((5..8).map(|index| record(&second_key, index)))
        .collect();
    fixture
        .producer
        .append(&fixture.topic, &records)
        .await
        .expect("appending");
    // The second partition starts at its end: only the first one's records are behind.
    let mut subscription = subscribe_at_end(&fixture, &BTreeMap::from([(second, 3)])).await;
    let mut expected = BTreeMap::from([(first, (0, 5)), (second, (3, 3))]);
    expect_lag(subscription.as_ref(), &lags(partitions, &expected)).await;
    let read = read_exactly(subscription.as_mut(), 5).await;
    assert!(
        read.iter().all(|stored| stored.position.partition == first),
        "records read from partitions other than {first}: {read:?}"
    );
    expected.insert(first, (5, 5));
    expect_lag(subscription.as_ref(), &lags(partitions, &expected)).await;
    subscription
        .seek(Position {
            partition: second,
            offset: 1,
        })
        .expect("seeking");
    expected.insert(second, (1, 3));
    expect_lag(subscription.as_ref(), &lags(partitions, &expected)).await;
}

async fn partitions(fixture: &Fixture) -> u32 {
    fixture
        .consumer
        .partitions(&fixture.topic)
        .await
        .expect("partitions")
}

/// One entry per partition of the topic, `(position, end)` from `known`, else at 0 of 0.
pub(crate) fn lags(partitions: u32, known: &BTreeMap<u32, (u64, u64)>) -> Vec<PartitionLag> {
    (0..partitions)
        .map(|partition| {
            let (position, end) = known.get(&partition).copied().unwrap_or_default();
            PartitionLag {
                partition,
                position,
                end,
            }
        })
        .collect()
}

/// Waits until `subscription.lag()` is `expected`, failing after [`DEADLINE`] with the
/// last answer: an implementation may learn of appends a little late, never wrongly.
pub(crate) async fn expect_lag(subscription: &dyn Subscription, expected: &[PartitionLag]) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let lag = subscription.lag();
        if lag == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "lag after {DEADLINE:?}: {lag:?}, expected {expected:?}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
