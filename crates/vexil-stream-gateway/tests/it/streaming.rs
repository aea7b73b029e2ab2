//! `GET /all`: the first `put`, then `patch` and `delete` as changes commit through the
//! REST API, heartbeats, headers.

use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;

use crate::harness::{gateway_config, ConfigApi, Gateway, Message, RedisPrefix};

#[sqlx::test(migrations = false)]
async fn stream_starts_with_put_then_sends_patch_and_delete(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    config_api.flag("checkout").await;
    config_api
        .segment(json!({"key": "beta", "name": "Beta", "included": ["alice"]}))
        .await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;

    let mut stream = gateway.stream(&environment.sdk_key).await;
    let headers = stream.response.headers();
    assert_eq!(headers["content-type"], "text/event-stream; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");

    let (name, put) = stream.next_event().await;
    assert_eq!(name, "put");
    assert_eq!(put["path"], "/");
    let flag = &put["data"]["flags"]["checkout"];
    assert_eq!(flag["key"], "checkout");
    assert_eq!(flag["on"], false);
    let version = flag["version"].as_u64().unwrap();
    assert_eq!(
        put["data"]["segments"]["beta"]["included"],
        json!(["alice"])
    );

    config_api
        .patch_flag("checkout", json!([{"kind": "turnFlagOn"}]))
        .await;
    let (name, patch) = stream.next_event().await;
    assert_eq!(name, "patch");
    assert_eq!(patch["path"], "/flags/checkout");
    assert_eq!(patch["data"]["key"], "checkout");
    assert_eq!(patch["data"]["on"], true);
    assert!(patch["data"]["version"].as_u64().unwrap() > version);
    let patched_version = patch["data"]["version"].as_u64().unwrap();

    config_api.delete_flag("checkout").await;
    let (name, delete) = stream.next_event().await;
    assert_eq!(name, "delete");
    assert_eq!(delete["path"], "/flags/checkout");
    assert!(delete["version"].as_u64().unwrap() > patched_version);

    // A new connection's put no longer has the flag, and both maps are present.
    let mut second = gateway.stream(&environment.sdk_key).await;
    let (_, put) = second.next_event().await;
    assert_eq!(put["data"]["flags"], json!({}));
    assert!(put["data"]["segments"]["beta"].is_object());
    gateway.stop().await;
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn idle_streams_get_heartbeat_comments(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let redis = RedisPrefix::new();
    let mut config = gateway_config(config_api.grpc, &redis.prefix);
    config.sse.heartbeat_interval = Duration::from_millis(100);
    let gateway = Gateway::start(config).await;

    let mut stream = gateway.stream(&environment.sdk_key).await;
    assert_eq!(stream.next_event().await.0, "put");
    assert_eq!(stream.next_message().await, Some(Message::Comment));
    assert_eq!(stream.next_message().await, Some(Message::Comment));
    gateway.stop().await;
    config_api.stop().await;
}
