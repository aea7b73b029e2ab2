//! SDK key authentication: 401 for unknown keys, both header forms, and revocation
//! ending open streams.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use time::format_description::well_known::Rfc3339;

use crate::harness::{gateway_config, ConfigApi, Gateway, RedisPrefix, DEADLINE, PROJECT};

#[sqlx::test(migrations = false)]
async fn unknown_or_missing_keys_get_401(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;

    for path in ["/all", "/sdk/latest-all", "/sdk/flags"] {
        let response = gateway.get(path, "sdk-not-a-real-key", &[]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        let response = gateway.client.get(gateway.url(path)).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{path} without a key"
        );
    }
    let api_key = format!("api_key {}", environment.sdk_key);
    let response = gateway.get("/sdk/latest-all", &api_key, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    gateway.stop().await;
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn revoking_a_key_closes_its_streams_and_refuses_it(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;

    let mut stream = gateway.stream(&environment.sdk_key).await;
    assert_eq!(stream.next_event().await.0, "put");
    config_api.revoke_key(&environment.sdk_key_id).await;
    stream.expect_end().await;
    let response = gateway
        .get("/sdk/latest-all", &environment.sdk_key, &[])
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = gateway.get("/all", &environment.sdk_key, &[]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    gateway.stop().await;
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn a_rotated_key_works_until_its_expiry_then_its_streams_close(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;
    let mut stream = gateway.stream(&environment.sdk_key).await;
    assert_eq!(stream.next_event().await.0, "put");

    let expires_at = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let (status, rotated) = config_api
        .admin(
            reqwest::Method::POST,
            &format!("/projects/{PROJECT}/environments/test/keys/sdk/rotate"),
            Some(json!({"oldKeyExpiresAt": expires_at.format(&Rfc3339).unwrap()})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let new_key = rotated["secret"].as_str().unwrap();
    gateway
        .poll_until(new_key, |payload| payload["flags"].is_object())
        .await;
    let response = gateway
        .get("/sdk/latest-all", &environment.sdk_key, &[])
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the old key works until its expiry"
    );

    stream.expect_end().await;
    assert!(time::OffsetDateTime::now_utc() >= expires_at - time::Duration::milliseconds(50));
    let response = gateway
        .get("/sdk/latest-all", &environment.sdk_key, &[])
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    gateway.stop().await;
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn deleting_an_environment_closes_its_streams_and_clears_redis(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;
    let mut stream = gateway.stream(&environment.sdk_key).await;
    assert_eq!(stream.next_event().await.0, "put");
    let meta_key = format!("{}:{}:$gateway", redis.prefix, environment.id);
    let mut connection = redis.connection().await;
    wait_for_key(&mut connection, &meta_key, true).await;

    let (status, body) = config_api
        .admin(
            reqwest::Method::DELETE,
            &format!("/projects/{PROJECT}/environments/test"),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    stream.expect_end().await;
    let response = gateway
        .get("/sdk/latest-all", &environment.sdk_key, &[])
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    wait_for_key(&mut connection, &meta_key, false).await;
    gateway.stop().await;
    config_api.stop().await;
}

async fn wait_for_key(connection: &mut redis::aio::MultiplexedConnection, key: &str, exists: bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let found: bool = redis::cmd("EXISTS")
            .arg(key)
            .query_async(connection)
            .await
            .unwrap();
        if found == exists {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{key} exists: {found}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}
