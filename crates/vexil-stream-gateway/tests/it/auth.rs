//! SDK key authentication: 401 for unknown keys, both header forms, and revocation
//! ending open streams.

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::harness::{gateway_config, ConfigApi, Gateway, RedisPrefix};

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
