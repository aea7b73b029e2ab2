//! `GET /sdk/latest-all` (ETag, 304, gzip, cache headers) and the PHP SDK's endpoints.

use std::io::Read;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::harness::{gateway_config, ConfigApi, Gateway, RedisPrefix};

#[sqlx::test(migrations = false)]
async fn polling_revalidates_with_etag_and_compresses(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    config_api.flag("checkout").await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;
    let key = environment.sdk_key.as_str();

    let response = gateway.get("/sdk/latest-all", key, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        headers["cache-control"],
        "private, max-age=0, must-revalidate"
    );
    assert_eq!(headers["vary"], "Authorization, Accept-Encoding");
    assert!(headers.get("content-encoding").is_none());
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let payload: Value = response.json().await.unwrap();
    assert_eq!(payload["flags"]["checkout"]["key"], "checkout");
    assert_eq!(payload["segments"], json!({}));

    let response = gateway
        .get("/sdk/latest-all", key, &[("if-none-match", &etag)])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(response.headers()["etag"], etag.as_str());
    assert!(response.bytes().await.unwrap().is_empty());

    // reqwest is built without gzip support, so the body arrives as sent.
    let response = gateway
        .get("/sdk/latest-all", key, &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let gzip_etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(gzip_etag, etag);
    let compressed = response.bytes().await.unwrap();
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_ref())
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&decoded).unwrap(), payload);
    let response = gateway
        .get(
            "/sdk/latest-all",
            key,
            &[("if-none-match", &gzip_etag), ("accept-encoding", "gzip")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);

    // A change gives a new ETag: the old one gets the full payload again.
    config_api
        .patch_flag("checkout", json!([{"kind": "turnFlagOn"}]))
        .await;
    gateway
        .poll_until(key, |payload| payload["flags"]["checkout"]["on"] == true)
        .await;
    let response = gateway
        .get("/sdk/latest-all", key, &[("if-none-match", &etag)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_ne!(response.headers()["etag"], etag.as_str());
    gateway.stop().await;
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn php_endpoints_serve_single_items(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    config_api.flag("checkout").await;
    config_api
        .segment(json!({"key": "beta", "name": "Beta", "included": ["alice"]}))
        .await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;
    let key = environment.sdk_key.as_str();

    let flags: Value = gateway
        .get("/sdk/flags", key, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(flags.as_object().unwrap().len(), 1);
    assert_eq!(flags["checkout"]["key"], "checkout");
    let flag: Value = gateway
        .get("/sdk/flags/checkout", key, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(flag["key"], "checkout");
    let segment: Value = gateway
        .get("/sdk/segments/beta", key, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(segment["included"], json!(["alice"]));
    assert_eq!(
        gateway.get("/sdk/flags/nope", key, &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    gateway.stop().await;
    config_api.stop().await;
}
