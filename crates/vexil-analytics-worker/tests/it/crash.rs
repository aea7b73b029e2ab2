//! The worker binary, SIGKILLed in the middle of a stream of 100,000 events and restarted,
//! ends with exact aggregates, and the restarted process resumes at the offsets stored in
//! PostgreSQL (it reads only what was not committed).

use std::time::Duration;

use sqlx::PgPool;
use vexil_proto::analytics::v1::{FlagUsageRequest, Granularity};

use crate::process::spawn_worker;
use crate::stream::{assert_exact_aggregates, expected_usage, stream};
use crate::support::*;

const ENVIRONMENT: &str = "6f1c1f5e-0000-4000-8000-000000000002";
const EVENTS: usize = 100_000;

#[sqlx::test]
async fn a_worker_killed_mid_stream_and_restarted_counts_every_event_once(pool: PgPool) {
    let topics = create_topics("crash").await;
    let group_id = unique_name("crash-group");
    let now = now_ms();
    let records = stream(ENVIRONMENT, 0..EVENTS, now);

    // The whole stream is on the broker before the worker starts. Expected numbers come
    // from what the broker holds (`read_back`): the worker's promise is to count every
    // record of the log exactly once, whatever the broker kept.
    produce(&producer(), &topics.events, &records).await;
    let (stored, total) = read_back(&topics.events).await;
    assert!(
        stored.len() as f64 >= EVENTS as f64 * 0.95,
        "the broker holds only {} of {EVENTS} acknowledged records",
        stored.len()
    );
    if stored.len() < EVENTS || total != EVENTS as i64 {
        eprintln!(
            "note: the broker holds {total} records with {} distinct events of the {EVENTS} it acknowledged (tansu's in-memory engine)",
            stored.len()
        );
    }

    let mut first = spawn_worker(&pool, &topics, &group_id);
    // Kill it once some batches, but not all, are committed.
    eventually(
        "a first committed batch",
        Duration::from_secs(120),
        || async { (processed(&pool, &topics.events).await > 0).then_some(()) },
    )
    .await;
    first.kill().await;
    let at_kill = processed(&pool, &topics.events).await;
    assert!(at_kill < total, "the worker finished before it was killed");

    // Restarted in a fresh consumer group, which has no Kafka-committed offsets: only the
    // offsets in PostgreSQL can make it skip what was committed.
    let mut second = spawn_worker(&pool, &topics, &unique_name("crash-group-restarted"));
    let mut last_seen = 0;
    for _ in 0..600 {
        last_seen = processed(&pool, &topics.events).await;
        if last_seen == total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        last_seen, total,
        "the restarted worker processed {last_seen} of the {total} records the broker holds"
    );

    assert_exact_aggregates(&pool, &stored).await;

    // The same numbers through gRPC, from the restarted process.
    let mut client = client(second.grpc, Some(SERVICE_TOKEN)).await;
    let usage = client
        .flag_usage(FlagUsageRequest {
            environment_id: ENVIRONMENT.into(),
            flag_key: "f".into(),
            from_unix_ms: now - 86_400_000,
            to_unix_ms: now + 86_400_000,
            granularity: Granularity::Day as i32,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(usage.totals, expected_usage(&stored));

    // The restarted process counted exactly the records after the stored offsets, each
    // once or as a repeat of an event already counted (the log may hold a record twice, see
    // `read_back`). Records before them may be read and passed over ("skipped"): tansu
    // answers a fetch from inside a record batch with the next batch, and the worker then
    // re-reads the partition from its beginning (`consumer/mod.rs`).
    assert_eq!(
        second.events("counted").await + second.events("duplicate").await,
        total - at_kill,
        "{:?}",
        second.metrics().await
    );
    second.kill().await;
}
