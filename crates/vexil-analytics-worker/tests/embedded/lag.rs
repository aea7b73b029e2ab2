//! The consumer-lag gauge on the embedded queue: records queued while no batch has been
//! written count as behind in their partitions from the moment the worker starts, and
//! nothing is behind once a batch has committed them.

use std::collections::BTreeMap;
use std::time::Duration;

use vexil_proto::events::v1::SDK_EVENTS_TOPIC;
use vexil_queue::{Consumer, Record};

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn consumer_lag_counts_queued_records_per_partition_until_a_batch_commits_them() {
    const QUEUED: usize = 30;
    const LATER: usize = 10;
    let directory = tempfile::tempdir().unwrap();
    let queue = open_queue(directory.path()).await;
    let store = open_store(directory.path()).await;
    let now = now_ms();
    let event = |n: usize| summary(&format!("payload-{n}"), 1, false, now);
    let queued: Vec<Record> = (0..QUEUED).map(event).collect();
    let positions = append(&queue, SDK_EVENTS_TOPIC, &queued).await;
    let partitions = queue.partitions(SDK_EVENTS_TOPIC).await.unwrap();
    let behind = records_per_partition(&positions);
    assert!(
        behind.len() > 1,
        "records spread over partitions: {behind:?}"
    );

    let mut config = config();
    // One batch of exactly QUEUED + LATER records, however long gathering them takes: until
    // it is written, the gauge shows what the worker found when it started.
    config.kafka.batch_max_records = QUEUED + LATER;
    config.kafka.batch_linger = Duration::from_secs(3600);
    let worker = RunningWorker::start(config, &queue, store.clone()).await;
    let expected: BTreeMap<i32, i64> = (0..partitions)
        .map(|partition| {
            let partition = i32::try_from(partition).unwrap();
            (partition, behind.get(&partition).copied().unwrap_or(0))
        })
        .collect();
    eventually("the queued records shown as lag", DEADLINE, || async {
        consumer_lag(worker.http).await == expected
    })
    .await;
    assert_eq!(
        committed(store.as_ref(), SDK_EVENTS_TOPIC).await,
        0,
        "no batch was written before the lag was read"
    );

    let later: Vec<Record> = (QUEUED..QUEUED + LATER).map(event).collect();
    append(&queue, SDK_EVENTS_TOPIC, &later).await;
    eventually("every record committed", DEADLINE, || async {
        committed(store.as_ref(), SDK_EVENTS_TOPIC).await == (QUEUED + LATER) as i64
    })
    .await;
    let caught_up: BTreeMap<i32, i64> = expected.keys().map(|&partition| (partition, 0)).collect();
    eventually("no lag once the batch committed", DEADLINE, || async {
        consumer_lag(worker.http).await == caught_up
    })
    .await;

    worker.stop().await;
    store.close().await;
    queue.close().await;
}
