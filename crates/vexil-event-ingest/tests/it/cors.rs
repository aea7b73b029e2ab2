//! CORS on the browser routes (spec 7.6): preflight answered without credentials, every
//! response, errors included, readable by an allowed page, and per-environment origin
//! lists.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use vexil_event_ingest::config::CorsEnvironment;

use crate::harness::{events, ingest_config, unique_topic, ConfigApi, Ingest, PROJECT};

#[sqlx::test(migrations = false)]
async fn browser_routes_answer_preflight_and_allow_the_origin(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let mut config = ingest_config(config_api.grpc, &unique_topic("cors"));
    config.cors.allowed_headers = vec!["X-Custom".into()];
    config.cors.environments = vec![CorsEnvironment {
        project: PROJECT.into(),
        environment: "test".into(),
        allowed_origins: vec!["https://shop.example".into()],
    }];
    let ingest = Ingest::start(config).await;
    let path = format!("/events/bulk/{}", environment.client_side_id);

    let preflight = ingest
        .client
        .request(Method::OPTIONS, ingest.url(&path))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, x-launchdarkly-payload-id",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::OK);
    let headers = preflight.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://shop.example"
    );
    assert_eq!(headers["access-control-allow-methods"], "POST, OPTIONS");
    assert_eq!(headers["access-control-allow-credentials"], "false");
    assert_eq!(headers["access-control-max-age"], "300");
    let allowed = headers["access-control-allow-headers"].to_str().unwrap();
    for header in [
        "Content-Type",
        "X-LaunchDarkly-Payload-ID",
        "X-LaunchDarkly-User-Agent",
        "X-Custom",
    ] {
        assert!(allowed.contains(header), "{header} in {allowed}");
    }
    assert!(preflight.bytes().await.unwrap().is_empty());

    let diagnostic_path = format!("/events/diagnostic/{}", environment.client_side_id);
    let preflight = ingest
        .client
        .request(Method::OPTIONS, ingest.url(&diagnostic_path))
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::OK);
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");

    let body = json!([events::summary()]).to_string();
    let posted = ingest
        .post(&path, &[("origin", "https://shop.example")], body.clone())
        .await;
    assert_eq!(posted.status(), StatusCode::ACCEPTED);
    assert_eq!(
        posted.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert_eq!(posted.headers()["access-control-expose-headers"], "Date");

    // The environment's list refuses other origins; the preflight itself still succeeds.
    let elsewhere = ingest
        .client
        .request(Method::OPTIONS, ingest.url(&path))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::OK);
    assert!(elsewhere
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    // An id that opens nothing gets the default list, which accepts any origin.
    let refused = ingest
        .post(
            "/events/bulk/unknown",
            &[("origin", "https://shop.example")],
            body,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        refused.headers()["access-control-allow-origin"],
        "https://shop.example"
    );

    // Server routes are not for browsers.
    let server = ingest
        .post("/bulk", &[("origin", "https://shop.example")], "[]")
        .await;
    assert!(server
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    ingest.stop().await;
    config_api.stop().await;
}
