//! Issue 6's metrics check: with the four services running and a little traffic through
//! each (an SSE stream on the gateway, events posted to ingest and consumed by the worker),
//! every service answers `/health/live` and `/health/ready`, and its `/metrics` has every
//! series `docs/telemetry.md` documents for it.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::scratch::Scratch;
use crate::stack::{self, Names, Resources, Service, Stack};

/// Bounds the wait for series that appear after asynchronous work: the gateway's first sync,
/// the worker's first batch and librdkafka's first statistics (every 5 s by default).
const SERIES_DEADLINE: Duration = Duration::from_secs(60);

/// The series of `docs/telemetry.md`, per service, as the start of a sample line: the
/// metric name and the labels the traffic below must have produced.
const DOCUMENTED: &[(&str, &[&str])] = &[
    (
        "config-api",
        &[
            r#"vexil_http_requests_total{service="config-api",method="GET",route="/api/v1/projects",status="200"}"#,
            r#"vexil_http_request_duration_seconds_bucket{service="config-api",le="+Inf",method="GET",route="/api/v1/projects"}"#,
            r#"vexil_http_request_duration_seconds_sum{service="config-api",method="GET",route="/api/v1/projects"}"#,
            r#"vexil_http_request_duration_seconds_count{service="config-api",method="GET",route="/api/v1/projects"}"#,
        ],
    ),
    (
        "stream-gateway",
        &[
            r#"vexil_http_requests_total{service="stream-gateway",method="GET",route="/sdk/latest-all",status="200"}"#,
            r#"vexil_http_request_duration_seconds_count{service="stream-gateway",method="GET",route="/all"}"#,
            r#"vexil_sse_streams_open{service="stream-gateway",credential="server_sdk_key"} 1"#,
        ],
    ),
    (
        "event-ingest",
        &[
            r#"vexil_http_requests_total{service="event-ingest",method="POST",route="/bulk",status="202"}"#,
            r#"vexil_http_request_duration_seconds_count{service="event-ingest",method="POST",route="/bulk"}"#,
            r#"vexil_event_ingest_events_accepted_total{service="event-ingest",source="server",kind="identify"} 1"#,
            r#"vexil_event_ingest_events_rejected_total{service="event-ingest",source="server",reason="unknown_kind"} 1"#,
            r#"vexil_event_ingest_payloads_rejected_total{service="event-ingest",source="server",reason="unauthenticated"} 1"#,
            r#"vexil_event_ingest_kafka_produce_duration_seconds_count{service="event-ingest",outcome="acknowledged"}"#,
        ],
    ),
    (
        "analytics-worker",
        &[
            r#"vexil_http_requests_total{service="analytics-worker",method="GET",route="/health/ready",status="200"}"#,
            r#"vexil_http_request_duration_seconds_count{service="analytics-worker",method="GET",route="/health/ready"}"#,
            r#"vexil_analytics_worker_events_total{service="analytics-worker",outcome="counted"}"#,
            r#"vexil_analytics_worker_batches_total{service="analytics-worker",outcome="committed"}"#,
            r#"vexil_analytics_worker_consumer_lag_records{service="analytics-worker",partition="0"}"#,
        ],
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_serves_health_and_its_documented_metric_series() {
    stack::run_scenario("vexil-metrics", scenario).await;
}

async fn scenario(scratch: Scratch, names: Names) {
    let config_api_pool = scratch.create_database(&names.config_api_database).await;
    let worker_pool = scratch.create_database(&names.worker_database).await;
    scratch
        .create_topics(&[(&names.events_topic, 1), (&names.dead_letter_topic, 1)])
        .await;
    let stack = Stack::start(Resources {
        config_api_pool: config_api_pool.clone(),
        worker_pool: worker_pool.clone(),
        events_topic: names.events_topic.clone(),
        dead_letter_topic: names.dead_letter_topic.clone(),
        consumer_group: names.consumer_group.clone(),
        redis_prefix: scratch.redis_prefix(),
    })
    .await;
    let client = reqwest::Client::new();

    for service in services(&stack) {
        for path in ["/health/live", "/health/ready"] {
            let response = client
                .get(format!("{}{path}", service.url()))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{} {path}", service.name);
        }
    }

    // config-api: a read of the REST API (and the project whose SDK key the rest uses).
    let (status, project) = stack
        .api(
            Method::POST,
            "/projects",
            Some(json!({"key": "metered", "name": "Metered"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let (status, _) = stack.api(Method::GET, "/projects", None).await;
    assert_eq!(status, StatusCode::OK);
    let sdk_key = server_sdk_key(&project);

    // The gateway: a poll once it has the environment, then a stream kept open.
    wait_for_environment(&client, &stack, &sdk_key).await;
    let mut stream = client
        .get(format!("{}/all", stack.gateway.url()))
        .header("authorization", &sdk_key)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let first = stream.chunk().await.unwrap().unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&first).contains("event: put"),
        "the stream opens with a put: {first:?}"
    );

    // Ingest: one event accepted and one dropped, then a payload refused as a whole.
    let events = json!([
        {"kind": "identify", "creationDate": 1_700_000_000_000_i64,
         "context": {"kind": "user", "key": "metered-user"}},
        {"kind": "no-such-kind", "creationDate": 1_700_000_000_000_i64},
    ]);
    let response = client
        .post(format!("{}/bulk", stack.ingest.url()))
        .header("authorization", &sdk_key)
        .json(&events)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let response = client
        .post(format!("{}/bulk", stack.ingest.url()))
        .json(&events)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    for (service, series) in DOCUMENTED {
        let service = services(&stack)
            .into_iter()
            .find(|candidate| candidate.name == *service)
            .unwrap();
        wait_for_series(&client, service, series).await;
    }
    drop(stream);

    stack.stop().await;
    config_api_pool.close().await;
    worker_pool.close().await;
}

fn services(stack: &Stack) -> [&Service; 4] {
    [
        &stack.config_api,
        &stack.gateway,
        &stack.ingest,
        &stack.worker,
    ]
}

fn server_sdk_key(project: &Value) -> String {
    project["environments"]
        .as_array()
        .and_then(|environments| environments.iter().find(|e| e["key"] == "test"))
        .and_then(|environment| environment["keys"].as_array())
        .and_then(|keys| keys.iter().find(|key| key["kind"] == "server"))
        .and_then(|key| key["secret"].as_str())
        .unwrap_or_else(|| panic!("no server-side SDK key in {project}"))
        .to_owned()
}

async fn wait_for_environment(client: &reqwest::Client, stack: &Stack, sdk_key: &str) {
    let deadline = tokio::time::Instant::now() + SERIES_DEADLINE;
    let url = format!("{}/sdk/latest-all", stack.gateway.url());
    loop {
        let response = client
            .get(&url)
            .header("authorization", sdk_key)
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::OK {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the gateway did not serve the environment within {SERIES_DEADLINE:?}: {}",
            response.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `service`'s `/metrics` until every series has a sample line.
async fn wait_for_series(client: &reqwest::Client, service: &Service, series: &[&str]) {
    let deadline = tokio::time::Instant::now() + SERIES_DEADLINE;
    let url = format!("{}/metrics", service.url());
    loop {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("application/openmetrics-text"),
            "{url}: {content_type}"
        );
        let text = response.text().await.unwrap();
        let missing: Vec<&str> = series
            .iter()
            .copied()
            .filter(|sample| !text.lines().any(|line| line.starts_with(sample)))
            .collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} lacks {missing:#?} after {SERIES_DEADLINE:?}:\n{text}",
            service.name
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
