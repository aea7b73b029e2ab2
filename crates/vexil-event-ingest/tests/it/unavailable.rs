//! When Kafka or config-api cannot take the request in time: 503 with `Retry-After` and
//! a JSON body, within the configured bound, never a hang and never a 2xx.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::harness::{events, ingest_config, unique_topic, ConfigApi, Ingest};

/// A loopback address nothing listens on: bound, then released.
async fn closed_address() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

async fn assert_unavailable(response: reqwest::Response, message: &str) {
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unavailable", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains(message),
        "{body}"
    );
}

#[sqlx::test(migrations = false)]
async fn an_unreachable_broker_gets_503_within_the_produce_timeout(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let mut config = ingest_config(config_api.grpc, &unique_topic("no-broker"));
    config.kafka.brokers = closed_address().await.to_string();
    config.kafka.create_topic = false;
    config.kafka.produce_timeout = Duration::from_millis(1500);
    let ingest = Ingest::start(config).await;

    let started = tokio::time::Instant::now();
    let response = ingest
        .bulk(
            &environment.sdk_key,
            "payload-1",
            &json!([events::feature(), events::summary()]),
        )
        .await;
    let elapsed = started.elapsed();
    assert_unavailable(response, "events could not be queued, retry later").await;
    assert!(
        elapsed >= Duration::from_millis(1400),
        "answered after {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "answered after {elapsed:?}"
    );
    let metrics = ingest.metrics().await;
    assert!(
        metrics.contains(r#"vexil_event_ingest_payloads_rejected_total{service="event-ingest",source="server",reason="kafka_unavailable"} 1"#),
        "{metrics}"
    );
    assert!(
        !metrics.contains("vexil_event_ingest_events_accepted_total{"),
        "{metrics}"
    );
    ingest.stop().await;
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn an_unreachable_config_api_gets_503(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let mut config = ingest_config(closed_address().await, &unique_topic("no-config-api"));
    config.config_api.request_timeout = Duration::from_millis(500);
    let ingest = Ingest::start(config).await;

    let response = ingest
        .bulk(
            &environment.sdk_key,
            "payload-1",
            &json!([events::feature()]),
        )
        .await;
    assert_unavailable(response, "credentials cannot be checked right now").await;
    ingest.stop().await;
    config_api.stop().await;
}
