//! Whole payloads refused with the documented status and a JSON message: 400 for bodies
//! that are not arrays of objects, 413 over the limit (as sent or decompressed), 401 for
//! keys that open nothing (404 for an unknown client-side id), and a revoked key refused
//! within the cache TTL.

use std::io::Write;
use std::time::Duration;

use flate2::write::GzEncoder;
use flate2::Compression;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::harness::{events, ingest_config, unique_topic, ConfigApi, Ingest, DEADLINE};

#[track_caller]
fn assert_error(
    status: StatusCode,
    body: &Value,
    expected_status: StatusCode,
    code: &str,
    message: &str,
) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    let text = body["message"].as_str().unwrap_or_default();
    assert!(
        text.contains(message),
        "{text:?} should contain {message:?}"
    );
}

async fn read_error(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
        Some("application/json")
    );
    (status, response.json().await.unwrap())
}

#[sqlx::test(migrations = false)]
async fn bodies_that_are_not_arrays_of_objects_get_400(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let ingest = Ingest::start(ingest_config(config_api.grpc, &unique_topic("bad-body"))).await;
    let auth = [("authorization", environment.sdk_key.as_str())];

    let cases = [
        ("[{\"kind\":", "request body is not valid JSON"),
        (
            "{\"kind\":\"index\"}",
            "request body must be a JSON array of event objects, not an object",
        ),
        (
            "[{\"kind\":\"index\"}, 42]",
            "event 1 must be a JSON object, not a number",
        ),
        ("", "request body is not valid JSON"),
    ];
    for (body, message) in cases {
        let (status, body) = read_error(ingest.post("/bulk", &auth, body).await).await;
        assert_error(
            status,
            &body,
            StatusCode::BAD_REQUEST,
            "bad_request",
            message,
        );
    }
    let (status, body) = read_error(ingest.post("/diagnostic", &auth, "[]").await).await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "diagnostic request body must be a JSON object, not an array",
    );
    let gzip = [
        ("authorization", environment.sdk_key.as_str()),
        ("content-encoding", "gzip"),
    ];
    let (status, body) = read_error(ingest.post("/bulk", &gzip, "[]").await).await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "bad_request",
        "not valid gzip",
    );

    let metrics = ingest.metrics().await;
    assert!(
        metrics.contains(r#"vexil_event_ingest_payloads_rejected_total{service="event-ingest",source="server",reason="invalid_json"} 2"#),
        "{metrics}"
    );
    ingest.stop().await;
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn bodies_over_the_limit_get_413_as_sent_and_decompressed(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let mut config = ingest_config(config_api.grpc, &unique_topic("too-large"));
    config.http.body_limit_bytes = 64 * 1024;
    let ingest = Ingest::start(config).await;
    let auth = [("authorization", environment.sdk_key.as_str())];

    let large = json!(vec![events::feature(); 1000]).to_string();
    assert!(large.len() > 64 * 1024);
    let (status, body) = read_error(ingest.post("/bulk", &auth, large.clone()).await).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "as sent exceeds the limit of 65536 bytes",
    );

    // A gzip bomb: 10 MB of whitespace inside a JSON array, about 10 kB compressed.
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(b"[").unwrap();
    encoder.write_all(&vec![b' '; 10 << 20]).unwrap();
    encoder.write_all(b"]").unwrap();
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 64 * 1024);
    let gzip = [
        ("authorization", environment.sdk_key.as_str()),
        ("content-encoding", "gzip"),
    ];
    let (status, body) = read_error(ingest.post("/bulk", &gzip, bomb).await).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "decompressed exceeds the limit",
    );
    ingest.stop().await;
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn keys_that_open_nothing_get_401_and_unknown_client_side_ids_404(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let ingest = Ingest::start(ingest_config(config_api.grpc, &unique_topic("auth"))).await;
    let body = json!([events::index()]).to_string();

    let cases: [(&str, Option<&str>); 5] = [
        ("/bulk", None),
        ("/bulk", Some("sdk-not-a-real-key")),
        ("/bulk", Some(&environment.mobile_key)),
        ("/mobile/events/bulk", Some(&environment.sdk_key)),
        ("/diagnostic", Some("")),
    ];
    for (path, key) in cases {
        let headers: Vec<(&str, &str)> =
            key.map(|key| ("authorization", key)).into_iter().collect();
        let (status, body) = read_error(ingest.post(path, &headers, body.clone()).await).await;
        assert_error(
            status,
            &body,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "SDK key",
        );
    }
    for path in [
        "/events/bulk/not-an-id",
        &format!("/events/bulk/{}", environment.sdk_key),
    ] {
        let (status, body) = read_error(ingest.post(path, &[], body.clone()).await).await;
        assert_error(
            status,
            &body,
            StatusCode::NOT_FOUND,
            "not_found",
            "client-side id",
        );
    }
    ingest.stop().await;
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn a_revoked_key_is_refused_within_the_cache_ttl(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let config = ingest_config(config_api.grpc, &unique_topic("revoked"));
    let ttl = config.credentials.cache_ttl;
    let ingest = Ingest::start(config).await;
    let body = json!([events::index()]);

    let response = ingest.bulk(&environment.sdk_key, "before", &body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    config_api.revoke_key(&environment.sdk_key_id).await;
    let revoked_at = tokio::time::Instant::now();
    loop {
        let status = ingest
            .bulk(&environment.sdk_key, "after", &body)
            .await
            .status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::ACCEPTED);
        assert!(
            revoked_at.elapsed() < DEADLINE,
            "the revoked key is still accepted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The cached answer may serve the old key for one TTL; a request's own time adds a
    // little, never a whole second more.
    assert!(
        revoked_at.elapsed() < ttl + Duration::from_secs(1),
        "refused only after {:?}",
        revoked_at.elapsed()
    );
    ingest.stop().await;
    config_api.stop().await;
}
