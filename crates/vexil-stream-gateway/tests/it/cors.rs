//! CORS on the browser endpoints and OFREP: preflights, the configured per-environment
//! allow-list, and `GET /sdk/goals/{envId}`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use vexil_stream_gateway::config::CorsEnvironment;

use crate::client_env::{client_project, encode};
use crate::harness::{gateway_config, ConfigApi, Gateway, RedisPrefix, PROJECT};

const SHOP: &str = "https://shop.example.com";
const EVIL: &str = "https://evil.example";

#[sqlx::test(migrations = false)]
async fn preflights_and_responses_follow_the_environment_allow_list(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = client_project(&config_api).await;
    let redis = RedisPrefix::new();
    let mut config = gateway_config(config_api.grpc, &redis.prefix);
    config.cors.environments.push(CorsEnvironment {
        project: PROJECT.into(),
        environment: "test".into(),
        allowed_origins: vec![SHOP.into()],
    });
    let gateway = Gateway::start(config).await;
    let id = &environment.client_side_id;
    let request = |method: Method, path: &str, origin: Option<&str>| {
        let mut request = gateway.client.request(method, gateway.url(path));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request
    };
    let options = Method::OPTIONS;

    // Preflight of a REPORT from the listed origin.
    let response = request(
        options.clone(),
        &format!("/sdk/evalx/{id}/context"),
        Some(SHOP),
    )
    .header("access-control-request-method", "REPORT")
    .header(
        "access-control-request-headers",
        "content-type, x-launchdarkly-user-agent",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["access-control-allow-origin"], SHOP);
    assert_eq!(
        headers["access-control-allow-methods"],
        "GET, REPORT, OPTIONS"
    );
    let allowed_headers = headers["access-control-allow-headers"].to_str().unwrap();
    for name in [
        "Content-Type",
        "X-LaunchDarkly-User-Agent",
        "X-LaunchDarkly-Wrapper",
        "X-LaunchDarkly-Tags",
    ] {
        assert!(allowed_headers.contains(name), "{allowed_headers}");
    }
    assert_eq!(headers["access-control-allow-credentials"], "false");
    assert_eq!(headers["access-control-max-age"], "300");
    assert!(response.bytes().await.unwrap().is_empty());

    // An origin not on the list gets no Access-Control-Allow-Origin, on the preflight and on
    // the response (which a browser then refuses to show the page).
    let get = format!(
        "/sdk/evalx/{id}/contexts/{}",
        encode(&json!({"key": "u"}), false)
    );
    let response = request(options.clone(), &get, Some(EVIL))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let response = request(Method::GET, &get, Some(EVIL)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let response = request(Method::GET, &get, Some(SHOP)).send().await.unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], SHOP);
    assert_eq!(response.headers()["access-control-expose-headers"], "Date");
    let response = request(Method::GET, &get, None).send().await.unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "*");

    // Streams and goals are browser paths too.
    let response = request(options.clone(), &format!("/eval/{id}"), Some(SHOP))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], SHOP);
    let response = request(Method::GET, &format!("/sdk/goals/{id}"), Some(SHOP))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["access-control-allow-origin"], SHOP);
    assert_eq!(response.json::<Value>().await.unwrap(), json!([]));
    let response = request(Method::GET, "/sdk/goals/no-such-id", Some(SHOP))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // OFREP: a preflight has no credential, so the default list (empty: any origin)
    // applies; the request itself is checked against its environment's list.
    let ofrep = "/ofrep/v1/evaluate/flags";
    let response = request(options, ofrep, Some(EVIL)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], EVIL);
    assert_eq!(headers["access-control-allow-methods"], "POST, OPTIONS");
    let allowed_headers = headers["access-control-allow-headers"].to_str().unwrap();
    assert!(
        allowed_headers.ends_with("Authorization, X-API-Key, If-None-Match"),
        "{allowed_headers}"
    );
    let body = json!({"context": {"targetingKey": "u"}});
    for (origin, allowed) in [(EVIL, None), (SHOP, Some(SHOP))] {
        let response = request(Method::POST, ofrep, Some(origin))
            .header("x-api-key", id.as_str())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(
            headers
                .get("access-control-allow-origin")
                .map(|value| value.to_str().unwrap()),
            allowed
        );
        assert_eq!(headers["access-control-expose-headers"], "Date, ETag");
    }
    gateway.stop().await;
    config_api.stop().await;
}
