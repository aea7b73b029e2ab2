//! Events through the embedded queue into the SQLite store: counted exactly once, a
//! replayed payload once, a malformed record dead-lettered on the same queue, and nothing
//! lost or doubled across a restart with the queue and the file reopened.

use std::time::Duration;

use prost::Message;
use vexil_analytics_worker::consumer::UNDECODABLE_ENVELOPE;
use vexil_proto::events::v1::{DeadLetter, DEAD_LETTER_TOPIC, SDK_EVENTS_TOPIC};
use vexil_queue::{Consumer, Record};

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn events_are_counted_once_and_a_malformed_record_is_dead_lettered() {
    let directory = tempfile::tempdir().unwrap();
    let queue = open_queue(directory.path()).await;
    let store = open_store(directory.path()).await;
    let now = now_ms();
    // payload-i holds i + 1 evaluations: 1 + 2 + ... + 20 = 210.
    let mut records: Vec<Record> = (0..20)
        .map(|i| summary(&format!("payload-{i}"), i + 1, false, now))
        .collect();
    // The SDK retried payload-3: ingest queued it twice.
    records.push(summary("payload-3", 4, false, now));
    let malformed = Record::new(format!("{ENVIRONMENT}#broken"), &b"\xff\xff\xff"[..], now);
    records.push(malformed.clone());
    let positions = append(&queue, SDK_EVENTS_TOPIC, &records).await;

    let worker = RunningWorker::start(config(), &queue, store.clone()).await;
    eventually("every record committed", DEADLINE, || async {
        committed(store.as_ref(), SDK_EVENTS_TOPIC).await == records.len() as i64
    })
    .await;
    assert_eq!(evaluations(worker.grpc, now).await, 210);
    // Every partition that held records was read to its end, in more than one batch.
    let partitions_read = records_per_partition(&positions);
    eventually(
        "no consumer lag once everything committed",
        DEADLINE,
        || async {
            let lag = consumer_lag(worker.http).await;
            partitions_read
                .keys()
                .all(|partition| lag.get(partition) == Some(&0))
        },
    )
    .await;

    // The dead letter was durable on the same queue before the offset past it committed.
    let mut dead_letters = queue.subscribe(DEAD_LETTER_TOPIC, &[]).await.unwrap();
    let letters = tokio::time::timeout(DEADLINE, dead_letters.next_batch(10))
        .await
        .expect("a dead letter")
        .unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = DeadLetter::decode(letters[0].record.value.clone()).unwrap();
    assert_eq!(letter.reason, UNDECODABLE_ENVELOPE);
    assert_eq!(letter.topic, SDK_EVENTS_TOPIC);
    assert_eq!(letter.value, malformed.value.to_vec());
    assert_eq!(letter.key, malformed.key.to_vec());
    assert_eq!(letters[0].record.key, malformed.key);

    worker.stop().await;
    store.close().await;
    queue.close().await;
}

#[tokio::test]
async fn a_worker_stopped_mid_stream_and_restarted_on_reopened_files_counts_every_event_once() {
    const FIRST: u64 = 150;
    const SECOND: u64 = 150;
    let directory = tempfile::tempdir().unwrap();
    let queue = open_queue(directory.path()).await;
    let store = open_store(directory.path()).await;
    let now = now_ms();
    // Generated payload ids: the worker cannot de-duplicate these, so only its offsets keep
    // a record from being counted twice.
    let event = move |n: u64| summary(&format!("generated-{n}"), 1, true, now);

    let worker = RunningWorker::start(config(), &queue, store.clone()).await;
    let (resume, resumed) = tokio::sync::oneshot::channel::<()>();
    let appender = tokio::spawn({
        let queue = queue.clone();
        async move {
            for n in 0..FIRST {
                append(&queue, SDK_EVENTS_TOPIC, &[event(n)]).await;
            }
            resumed.await.unwrap();
            for n in FIRST..FIRST + SECOND {
                append(&queue, SDK_EVENTS_TOPIC, &[event(n)]).await;
            }
        }
    });
    eventually("the first events counted", DEADLINE, || async {
        committed(store.as_ref(), SDK_EVENTS_TOPIC).await > 0
    })
    .await;
    // Stop while events keep arriving.
    resume.send(()).unwrap();
    worker.stop().await;
    appender.await.unwrap();
    let committed_before_restart = committed(store.as_ref(), SDK_EVENTS_TOPIC).await;
    assert!(
        committed_before_restart < (FIRST + SECOND) as i64,
        "the worker was stopped before the stream ended"
    );
    store.close().await;
    queue.close().await;
    drop(queue);

    let queue = open_queue(directory.path()).await;
    let store = open_store(directory.path()).await;
    let worker = RunningWorker::start(config(), &queue, store.clone()).await;
    eventually("every record committed", DEADLINE, || async {
        committed(store.as_ref(), SDK_EVENTS_TOPIC).await == (FIRST + SECOND) as i64
    })
    .await;
    assert_eq!(evaluations(worker.grpc, now).await, FIRST + SECOND);
    worker.stop().await;
    store.close().await;
    queue.close().await;
}
