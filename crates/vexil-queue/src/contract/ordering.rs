//! Contract cases about where records go and the order they come back in.

use std::collections::{BTreeMap, BTreeSet};

use super::{read_exactly, record, subscribe_at_end, Fixture};
use crate::{Position, Record};

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
