//! `vexil up`'s embedded mode end to end: ingest appends to an embedded queue in a
//! temporary directory (`run_with_queue`), the analytics worker reads it into a SQLite file
//! (`serve_with_queue`), config-api answers credentials. No Kafka: events posted are
//! counted exactly once by the worker's usage query, a retried payload once, and a closed
//! queue gets the same 503 as an unreachable Kafka.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use vexil_analytics_worker::config::DatabaseConfig;
use vexil_event_ingest::config::Config;
use vexil_proto::analytics::v1::analytics_client::AnalyticsClient;
use vexil_proto::analytics::v1::{FlagUsageRequest, Granularity};
use vexil_proto::events::v1::{EventEnvelope, PAYLOAD_ID_HEADER, SDK_EVENTS_TOPIC};
use vexil_queue::embedded::{EmbeddedOptions, EmbeddedQueue};
use vexil_queue::Consumer;

use crate::harness::{events, ConfigApi, Environment, Ingest, DEADLINE, SERVICE_TOKEN};

/// config-api with the test project, an embedded queue in a temporary directory, and
/// ingest on that queue (started as [`Ingest::start`] starts it on Kafka).
struct Embedded {
    config_api: ConfigApi,
    environment: Environment,
    directory: tempfile::TempDir,
    queue: EmbeddedQueue,
    ingest: Ingest,
}

impl Embedded {
    async fn start(pool: PgPool) -> Embedded {
        let config_api = ConfigApi::start(pool).await;
        let environment = config_api.project().await;
        let directory = tempfile::tempdir().unwrap();
        let queue = EmbeddedQueue::open(directory.path().join("queue"), EmbeddedOptions::default())
            .await
            .unwrap();
        let mut config = Config {
            service_token: Some(SERVICE_TOKEN.into()),
            ..Default::default()
        };
        config.config_api.grpc_url = format!("http://{}", config_api.grpc);
        let ingest = Ingest::start_with(config, |config, listener, shutdown| {
            vexil_event_ingest::run_with_queue(config, listener, Arc::new(queue.clone()), shutdown)
        })
        .await;
        Embedded {
            config_api,
            environment,
            directory,
            queue,
            ingest,
        }
    }

    async fn stop(self) {
        self.ingest.stop().await;
        self.config_api.stop().await;
        self.queue.close().await;
    }
}

/// The worker on `queue` and a SQLite file in `directory`; returns its gRPC address.
async fn start_worker(
    directory: &std::path::Path,
    queue: &EmbeddedQueue,
    shutdown: CancellationToken,
) -> (SocketAddr, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let database = DatabaseConfig {
        url: format!("sqlite://{}", directory.join("analytics.db").display()),
        ..DatabaseConfig::default()
    };
    let store = vexil_analytics_worker::store::connect(&database)
        .await
        .unwrap();
    let mut config = vexil_analytics_worker::config::Config {
        service_token: Some(SERVICE_TOKEN.into()),
        ..Default::default()
    };
    config.kafka.batch_linger = Duration::from_millis(50);
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let grpc = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = grpc.local_addr().unwrap();
    let task = tokio::spawn(vexil_analytics_worker::serve_with_queue(
        config,
        store,
        Arc::new(queue.clone()),
        Arc::new(queue.clone()),
        http,
        grpc,
        shutdown,
    ));
    (address, task)
}

/// Evaluations of `new-checkout` the worker's usage query reports for the summaries'
/// day (`events::summary` ends on 2024-06-10).
async fn evaluations(worker_grpc: SocketAddr, environment_id: &str) -> u64 {
    let channel = tonic::transport::Channel::from_shared(format!("http://{worker_grpc}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let bearer = vexil_service::service_auth::BearerToken::new(Some(SERVICE_TOKEN)).unwrap();
    let mut client = AnalyticsClient::with_interceptor(channel, bearer);
    let usage = client
        .flag_usage(FlagUsageRequest {
            environment_id: environment_id.to_owned(),
            flag_key: "new-checkout".into(),
            from_unix_ms: 1_717_900_000_000,
            to_unix_ms: 1_718_100_000_000,
            granularity: Granularity::Day as i32,
        })
        .await
        .unwrap()
        .into_inner();
    usage.totals.iter().map(|total| total.count).sum()
}

async fn wait_for_evaluations(worker_grpc: SocketAddr, environment_id: &str, expected: u64) {
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let counted = evaluations(worker_grpc, environment_id).await;
        if counted == expected {
            return;
        }
        assert!(
            counted < expected && tokio::time::Instant::now() < until,
            "expected {expected} evaluations, the worker counted {counted}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[sqlx::test(migrations = false)]
async fn events_posted_to_the_embedded_queue_are_counted_once_by_the_worker(pool: PgPool) {
    let embedded = Embedded::start(pool).await;
    let (environment, ingest, queue) = (&embedded.environment, &embedded.ingest, &embedded.queue);
    let worker_shutdown = CancellationToken::new();
    let (worker_grpc, worker) =
        start_worker(embedded.directory.path(), queue, worker_shutdown.clone()).await;

    // Each summary counts 41 evaluations; payload-2 also holds a malformed event, which
    // ingest drops (and counts) while keeping the rest.
    let sent = json!([events::summary(), events::feature()]);
    let with_malformed = json!([events::summary(), {"kind": "feature"}]);
    for (payload_id, body) in [("payload-1", &sent), ("payload-2", &with_malformed)] {
        let response = ingest.bulk(&environment.sdk_key, payload_id, body).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "{payload_id}");
    }
    wait_for_evaluations(worker_grpc, &environment.id, 82).await;

    // The SDK retries payload-1: accepted again, counted once.
    let response = ingest.bulk(&environment.sdk_key, "payload-1", &sent).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let response = ingest
        .bulk(
            &environment.sdk_key,
            "payload-3",
            &json!([events::summary()]),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    wait_for_evaluations(worker_grpc, &environment.id, 123).await;
    let metrics = ingest.metrics().await;
    assert!(
        metrics.contains(r#"vexil_event_ingest_events_rejected_total{service="event-ingest",source="server",reason="#),
        "{metrics}"
    );

    // The records are ingest's: keyed by environment and context (or payload), with the
    // payload id header and the envelope.
    let mut reader = queue.subscribe(SDK_EVENTS_TOPIC, &[]).await.unwrap();
    let records = tokio::time::timeout(DEADLINE, reader.next_batch(100))
        .await
        .unwrap()
        .unwrap();
    let first = records
        .iter()
        .find(|stored| {
            let envelope =
                <EventEnvelope as prost::Message>::decode(stored.record.value.clone()).unwrap();
            envelope.payload_id == "payload-1" && envelope.kind == "feature"
        })
        .expect("payload-1's feature event");
    assert_eq!(
        first.record.key,
        format!("{}:u-5", environment.id).into_bytes()
    );
    let payload_id = first
        .record
        .headers
        .iter()
        .find(|header| header.name == PAYLOAD_ID_HEADER)
        .map(|header| header.value.clone());
    assert_eq!(payload_id.as_deref(), Some(&b"payload-1"[..]));

    worker_shutdown.cancel();
    worker.await.unwrap().unwrap();
    embedded.stop().await;
}

#[sqlx::test(migrations = false)]
async fn a_closed_queue_answers_503_like_an_unreachable_kafka(pool: PgPool) {
    let embedded = Embedded::start(pool).await;
    let (environment, ingest) = (&embedded.environment, &embedded.ingest);
    embedded.queue.close().await;

    let response = ingest
        .bulk(
            &environment.sdk_key,
            "payload-1",
            &json!([events::summary()]),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let metrics = ingest.metrics().await;
    assert!(
        metrics.contains(r#"vexil_event_ingest_payloads_rejected_total{service="event-ingest",source="server",reason="kafka_unavailable"} 1"#),
        "{metrics}"
    );
    embedded.stop().await;
}
