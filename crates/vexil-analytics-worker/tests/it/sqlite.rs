//! The whole worker on a SQLite file (`vexil up`'s embedded mode): events are counted once,
//! queried over gRPC, and still there, de-duplication included, after a restart.

use std::time::Duration;

use vexil_proto::analytics::v1::{FlagUsageRequest, Granularity, VariationCount};

use crate::support::*;

const ENVIRONMENT: &str = "6f1c1f5e-0000-4000-8000-000000000002";

fn summary(payload_id: &str, now: i64, count: u64) -> Record {
    envelope(
        ENVIRONMENT,
        payload_id,
        0,
        &format!(
            r#"{{"kind":"summary","startDate":{},"endDate":{now},"features":{{
                "checkout":{{"default":false,"counters":[{{"variation":1,"version":2,"value":true,"count":{count}}}]}}}}}}"#,
            now - 1000
        ),
    )
}

async fn evaluations(worker: &RunningWorker, now: i64) -> u64 {
    let mut client = client(worker.grpc, Some(SERVICE_TOKEN)).await;
    let usage = client
        .flag_usage(FlagUsageRequest {
            environment_id: ENVIRONMENT.into(),
            flag_key: "checkout".into(),
            from_unix_ms: now - 3_600_000,
            to_unix_ms: now + 3_600_000,
            granularity: Granularity::Hour as i32,
        })
        .await
        .unwrap()
        .into_inner();
    usage
        .totals
        .iter()
        .map(|VariationCount { count, .. }| count)
        .sum()
}

#[tokio::test]
async fn the_worker_on_a_sqlite_file_counts_once_and_keeps_its_data_across_restarts() {
    let topics = create_topics("sqlite").await;
    let producer = producer();
    let directory = tempfile::tempdir().unwrap();
    let mut config = worker_config(&topics);
    config.database.url = format!(
        "sqlite://{}",
        directory.path().join("vexil-data/analytics.db").display()
    );
    let now = now_ms();
    // The SDK retried payload-1: ingest produced it twice.
    produce(
        &producer,
        &topics.events,
        &[summary("payload-1", now, 3), summary("payload-1", now, 3)],
    )
    .await;

    let worker = RunningWorker::run(config.clone()).await;
    eventually("payload-1 counted", Duration::from_secs(60), || async {
        (evaluations(&worker, now).await == 3).then_some(())
    })
    .await;
    worker.stop().await;

    // A restart reads the file: the count is there at once, and payload-1 is remembered.
    produce(
        &producer,
        &topics.events,
        &[summary("payload-1", now, 3), summary("payload-2", now, 4)],
    )
    .await;
    let worker = RunningWorker::run(config).await;
    let first = evaluations(&worker, now).await;
    assert!(
        first == 3 || first == 7,
        "{first} evaluations after the restart"
    );
    eventually("payload-2 counted", Duration::from_secs(60), || async {
        (evaluations(&worker, now).await == 7).then_some(())
    })
    .await;
    let metrics = worker.metrics().await;
    worker.stop().await;
    assert!(
        metrics.contains(r#"vexil_analytics_worker_events_total{service="analytics-worker",outcome="duplicate"} 1"#),
        "{metrics}"
    );
}
