//! Accepted events land in the topic, one record per event, with the envelope, key and
//! headers of the contract; malformed events are dropped and counted, the rest kept.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use vexil_proto::events::v1::EventSource;

use crate::harness::{
    events, ingest_config, unique_topic, ConfigApi, Ingest, TopicReader, PROJECT,
};

#[sqlx::test(migrations = false)]
async fn server_events_land_in_the_topic_with_their_envelope(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let topic = unique_topic("server");
    let ingest = Ingest::start(ingest_config(config_api.grpc, &topic)).await;
    let reader = TopicReader::new(&topic);

    let sent = json!([
        events::index(),
        events::feature(),
        events::custom(),
        events::identify_org(),
        events::summary()
    ]);
    let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let response = ingest
        .post(
            "/bulk",
            &[
                ("authorization", &format!("api_key {}", environment.sdk_key)),
                ("x-launchdarkly-payload-id", "payload-1"),
                ("x-launchdarkly-event-schema", "4"),
                ("x-launchdarkly-wrapper", "OpenFeature/1.2"),
                ("user-agent", "GoClient/7.0.0"),
                ("traceparent", traceparent),
            ],
            sent.to_string(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(response.headers().contains_key("date"));
    assert!(response.bytes().await.unwrap().is_empty());

    let produced = reader.read(5).await;
    let kinds: Vec<&str> = produced
        .iter()
        .map(|record| record.envelope.kind.as_str())
        .collect();
    assert_eq!(kinds, ["index", "feature", "custom", "identify", "summary"]);
    let keys: Vec<String> = produced.iter().map(|record| record.key.clone()).collect();
    let id = &environment.id;
    assert_eq!(
        keys,
        [
            format!("{id}:u-5"),
            format!("{id}:u-5"),
            format!("{id}:u-5"),
            format!("{id}:org:acme"),
            format!("{id}#payload-1"),
        ]
    );
    for (index, record) in produced.iter().enumerate() {
        let envelope = &record.envelope;
        assert_eq!(envelope.environment_id, environment.id);
        assert_eq!(envelope.project_key.as_deref(), Some(PROJECT));
        assert_eq!(envelope.environment_key.as_deref(), Some("test"));
        assert_eq!(envelope.payload_id, "payload-1");
        assert!(!envelope.payload_id_generated);
        assert_eq!(envelope.index_in_payload as usize, index);
        assert_eq!(envelope.source(), EventSource::Server);
        assert_eq!(envelope.user_agent, "GoClient/7.0.0");
        assert_eq!(envelope.wrapper, "OpenFeature/1.2");
        assert_eq!(envelope.event_schema, 4);
        assert!(envelope.received_at_unix_ms > 1_700_000_000_000);
        assert_eq!(record.event(), sent[index], "the event as sent");
        assert_eq!(record.header("vexil-payload-id"), Some("payload-1"));
        assert_eq!(record.header("traceparent"), Some(traceparent));
    }
    let metrics = ingest.metrics().await;
    assert!(
        metrics.contains(r#"vexil_event_ingest_events_accepted_total{service="event-ingest",source="server",kind="feature"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("vexil_event_ingest_kafka_produce_duration_seconds_count"));
    ingest.stop().await;
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn a_malformed_event_is_dropped_and_counted_and_the_rest_accepted(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let topic = unique_topic("malformed");
    let ingest = Ingest::start(ingest_config(config_api.grpc, &topic)).await;
    let reader = TopicReader::new(&topic);

    let mut bad_context = events::feature();
    bad_context["context"] = json!({"kind": "user"});
    let mut bad_metric = events::custom();
    bad_metric["metricValue"] = json!("59.9");
    let sent = json!([events::feature(), bad_context, {"kind": "alias", "creationDate": 1},
                      bad_metric, events::custom()]);
    let response = ingest.bulk(&environment.sdk_key, "payload-2", &sent).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    // A second payload marks the end of the first in the one-partition topic.
    let response = ingest
        .bulk(&environment.sdk_key, "payload-3", &json!([events::index()]))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);

    let produced = reader.read(3).await;
    let seen: Vec<(&str, u32)> = produced
        .iter()
        .map(|record| {
            (
                record.envelope.payload_id.as_str(),
                record.envelope.index_in_payload,
            )
        })
        .collect();
    assert_eq!(seen, [("payload-2", 0), ("payload-2", 4), ("payload-3", 0)]);

    let metrics = ingest.metrics().await;
    for reason in ["invalid_context", "unknown_kind", "invalid_metric_value"] {
        let line = format!(
            r#"vexil_event_ingest_events_rejected_total{{service="event-ingest",source="server",reason="{reason}"}} 1"#
        );
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }
    ingest.stop().await;
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn gzip_mobile_client_side_and_diagnostic_payloads_are_accepted(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let topic = unique_topic("sources");
    let ingest = Ingest::start(ingest_config(config_api.grpc, &topic)).await;
    let reader = TopicReader::new(&topic);

    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(json!([events::custom()]).to_string().as_bytes())
        .unwrap();
    let gzipped = encoder.finish().unwrap();
    let response = ingest
        .post(
            "/bulk",
            &[
                ("authorization", &environment.sdk_key),
                ("content-encoding", "gzip"),
            ],
            gzipped,
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let mobile_auth = [("authorization", environment.mobile_key.as_str())];
    for path in ["/mobile/events/bulk", "/mobile/events", "/mobile"] {
        let response = ingest
            .post(
                path,
                &mobile_auth,
                json!([events::identify_org()]).to_string(),
            )
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "{path}");
    }
    let browser = [
        ("x-launchdarkly-user-agent", "JSClient/3.1.0"),
        ("user-agent", "Mozilla/5.0"),
    ];
    let path = format!("/events/bulk/{}", environment.client_side_id);
    let response = ingest
        .post(&path, &browser, json!([events::summary()]).to_string())
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let diagnostic = events::diagnostic_init().to_string();
    let response = ingest
        .post(
            "/diagnostic",
            &[("authorization", &environment.sdk_key)],
            diagnostic.clone(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let response = ingest
        .post(
            "/mobile/events/diagnostic",
            &mobile_auth,
            diagnostic.clone(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let path = format!("/events/diagnostic/{}", environment.client_side_id);
    let response = ingest.post(&path, &[], diagnostic).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);

    let produced = reader.read(8).await;
    let seen: Vec<(EventSource, &str)> = produced
        .iter()
        .map(|record| (record.envelope.source(), record.envelope.kind.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (EventSource::Server, "custom"),
            (EventSource::Mobile, "identify"),
            (EventSource::Mobile, "identify"),
            (EventSource::Mobile, "identify"),
            (EventSource::ClientSide, "summary"),
            (EventSource::Server, "diagnostic-init"),
            (EventSource::Mobile, "diagnostic-init"),
            (EventSource::ClientSide, "diagnostic-init"),
        ]
    );
    assert_eq!(
        produced[0].event(),
        events::custom(),
        "decompressed as sent"
    );
    assert_eq!(produced[4].envelope.user_agent, "JSClient/3.1.0");
    for record in &produced {
        assert_eq!(record.envelope.environment_id, environment.id);
        assert!(
            record.envelope.payload_id_generated,
            "no payload id was sent"
        );
        assert_eq!(
            record.header("vexil-payload-id"),
            Some(record.envelope.payload_id.as_str())
        );
    }
    ingest.stop().await;
    config_api.stop().await;
}
