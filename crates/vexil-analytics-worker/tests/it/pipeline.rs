//! Events produced as event-ingest produces them are counted exactly, once, and queried
//! over gRPC; what cannot be processed lands in the dead-letter topic.

use std::time::Duration;

use prost::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::Message;
use sqlx::PgPool;
use vexil_proto::analytics::v1::{
    ContextsRequest, ExperimentStatisticsRequest, FlagUsageRequest, Granularity, StaleFlagsRequest,
    StaleReason, VariationCount, VariationStatistics,
};
use vexil_proto::events::v1::DeadLetter;

use crate::support::*;

const ENVIRONMENT: &str = "6f1c1f5e-0000-4000-8000-000000000001";

/// One SDK payload: a summary, experiment exposures, contexts, custom events.
fn payload(payload_id: &str, now: i64) -> Vec<Record> {
    let exposed = |user: &str, variation: u32, at: i64| {
        format!(
            r#"{{"kind":"feature","creationDate":{at},"key":"checkout","version":2,
                "context":{{"kind":"user","key":"{user}"}},"variation":{variation},"value":true,"default":false,
                "reason":{{"kind":"FALLTHROUGH","inExperiment":true}}}}"#
        )
    };
    let purchase = |user: &str, value: f64, at: i64| {
        format!(
            r#"{{"kind":"custom","creationDate":{at},"key":"purchase","contextKeys":{{"user":"{user}"}},"metricValue":{value}}}"#
        )
    };
    let events = [
        format!(
            r#"{{"kind":"summary","startDate":{},"endDate":{now},"features":{{
                "checkout":{{"default":false,"counters":[
                    {{"variation":0,"version":2,"value":false,"count":3}},
                    {{"variation":1,"version":2,"value":true,"count":5}}]}},
                "old-flag":{{"default":false,"counters":[{{"variation":0,"version":9,"value":false,"count":4}}]}}}}}}"#,
            now - 5000
        ),
        format!(
            r#"{{"kind":"index","creationDate":{now},"context":{{"kind":"user","key":"u1","name":"Ann"}}}}"#
        ),
        format!(
            r#"{{"kind":"index","creationDate":{now},"context":{{"kind":"user","key":"anon","anonymous":true}}}}"#
        ),
        exposed("u1", 1, now),
        exposed("u2", 0, now),
        // Before u1's exposure: not a conversion.
        purchase("u1", 100.0, now - 1),
        purchase("u1", 10.0, now + 1),
        purchase("u1", 5.0, now + 2),
        purchase("u2", 7.0, now + 1),
        // Never exposed: a custom event, but no experiment unit.
        purchase("u3", 1.0, now + 1),
    ];
    events
        .iter()
        .enumerate()
        .map(|(index, json)| envelope(ENVIRONMENT, payload_id, index as u32, json))
        .collect()
}

#[sqlx::test]
async fn events_are_aggregated_exactly_once_and_queryable(pool: PgPool) {
    let topics = create_topics("pipeline").await;
    let producer = producer();
    let now = now_ms();
    let mut records = payload("payload-1", now);
    // The SDK retried the payload: event-ingest produced every event again.
    records.extend(payload("payload-1", now));
    records.push(Record {
        key: format!("{ENVIRONMENT}#bad"),
        value: vec![0xff, 0x01, 0x02],
    });
    records.push(envelope(
        ENVIRONMENT,
        "payload-2",
        0,
        r#"{"kind":"feature","creationDate":1}"#,
    ));
    produce(&producer, &topics.events, &records).await;

    let worker = RunningWorker::start(worker_config(&topics), pool.clone()).await;
    let total = records.len() as i64;
    eventually(
        "every record processed",
        Duration::from_secs(60),
        || async { (processed(&pool, &topics.events).await == total).then_some(()) },
    )
    .await;
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
    let counts = |variation: i32, count: u64| VariationCount {
        variation: Some(variation),
        count,
    };
    assert_eq!(usage.totals, [counts(0, 3), counts(1, 5)]);
    assert_eq!(
        usage
            .buckets
            .iter()
            .map(|bucket| bucket.counts.len())
            .sum::<usize>(),
        2
    );
    assert_eq!(usage.distinct_contexts_estimate, 2);
    assert_eq!(usage.last_evaluated_unix_ms, Some(now));

    let contexts = client
        .contexts(ContextsRequest {
            environment_id: ENVIRONMENT.into(),
            page_size: 1,
            ..ContextsRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(contexts.contexts.len(), 1);
    let second = client
        .contexts(ContextsRequest {
            environment_id: ENVIRONMENT.into(),
            page_size: 10,
            page_token: contexts.next_page_token.clone(),
            ..ContextsRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut listed: Vec<(String, Option<String>)> = contexts
        .contexts
        .into_iter()
        .chain(second.contexts)
        .map(|context| (context.key, context.name))
        .collect();
    listed.sort();
    // u3 came only as contextKeys, anon is anonymous: neither is listed.
    assert_eq!(
        listed,
        [("u1".into(), Some("Ann".into())), ("u2".into(), None)]
    );
    assert!(second.next_page_token.is_empty());

    let experiment = client
        .experiment_statistics(ExperimentStatisticsRequest {
            environment_id: ENVIRONMENT.into(),
            flag_key: "checkout".into(),
            metric_key: "purchase".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let statistics = |variation, value_sum, value_sum_squares| VariationStatistics {
        variation,
        units: 1,
        conversions: 1,
        value_sum,
        value_sum_squares,
    };
    assert_eq!(
        experiment.variations,
        [statistics(0, 7.0, 49.0), statistics(1, 15.0, 225.0)]
    );
    assert_eq!(experiment.metric_keys, ["purchase"]);

    let stale = client
        .stale_flags(StaleFlagsRequest {
            environment_id: ENVIRONMENT.into(),
            flag_keys: vec!["checkout".into(), "old-flag".into(), "ghost".into()],
            window_seconds: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let reasons: Vec<(&str, StaleReason, u64)> = stale
        .flags
        .iter()
        .map(|flag| (flag.flag_key.as_str(), flag.reason(), flag.evaluations))
        .collect();
    assert_eq!(
        reasons,
        [
            ("checkout", StaleReason::Unspecified, 8),
            ("old-flag", StaleReason::SingleVariation, 4),
            ("ghost", StaleReason::NotEvaluated, 0)
        ]
    );
    assert_eq!(stale.flags[2].last_evaluated_unix_ms, None);

    let custom_events: i64 =
        sqlx::query_scalar("SELECT SUM(count)::int8 FROM analytics.custom_events")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(custom_events, 5);

    let letters = dead_letters(&topics.dead_letters, 2).await;
    let mut reasons: Vec<&str> = letters
        .iter()
        .map(|letter| letter.reason.as_str())
        .collect();
    reasons.sort();
    assert_eq!(reasons, ["invalid_event", "undecodable_envelope"]);
    assert!(letters.iter().all(|letter| letter.topic == topics.events));

    let metrics = worker.metrics().await;
    for line in [
        r#"vexil_analytics_worker_events_total{service="analytics-worker",outcome="counted"} 10"#,
        r#"vexil_analytics_worker_events_total{service="analytics-worker",outcome="duplicate"} 10"#,
        r#"vexil_analytics_worker_events_total{service="analytics-worker",outcome="dead_lettered"} 2"#,
    ] {
        assert!(metrics.contains(line), "{line} not in {metrics}");
    }
    eventually("a consumer lag gauge", Duration::from_secs(20), || async {
        worker
            .metrics()
            .await
            .contains("vexil_analytics_worker_consumer_lag_records{")
            .then_some(())
    })
    .await;
    worker.stop().await;
}

#[sqlx::test]
async fn calls_without_the_service_token_are_refused(pool: PgPool) {
    let topics = create_topics("auth").await;
    let worker = RunningWorker::start(worker_config(&topics), pool).await;
    let request = StaleFlagsRequest {
        environment_id: ENVIRONMENT.into(),
        ..StaleFlagsRequest::default()
    };
    for token in [None, Some("wrong")] {
        let status = client(worker.grpc, token)
            .await
            .stale_flags(request.clone())
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }
    let status = client(worker.grpc, Some(SERVICE_TOKEN))
        .await
        .stale_flags(StaleFlagsRequest {
            environment_id: "not-a-uuid".into(),
            ..StaleFlagsRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    worker.stop().await;
}

async fn dead_letters(topic: &str, count: usize) -> Vec<DeadLetter> {
    let consumer: StreamConsumer = client_config()
        .set("group.id", unique_name("dlq-reader"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut letters = Vec::new();
    while letters.len() < count {
        let message = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .expect("dead letters within 30 s")
            .unwrap();
        letters.push(DeadLetter::decode(message.payload().unwrap()).unwrap());
    }
    letters
}
