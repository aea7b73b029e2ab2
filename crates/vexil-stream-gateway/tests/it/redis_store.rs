//! Redis: LaunchDarkly's store layout under `{prefix}:{environmentId}`, and a gateway
//! restarted while config-api is down serving from it (then resuming when it is back).

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::harness::{gateway_config, ConfigApi, Gateway, RedisPrefix, DEADLINE, PROJECT};

/// The environment's hashes and keys, once `condition` holds for the flags hash.
async fn stored(
    redis: &RedisPrefix,
    environment_id: &str,
    condition: impl Fn(&HashMap<String, Value>) -> bool,
) -> (HashMap<String, Value>, HashMap<String, Value>) {
    let mut connection = redis.connection().await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let prefix = format!("{}:{environment_id}", redis.prefix);
        let (flags, segments): (HashMap<String, String>, HashMap<String, String>) = redis::pipe()
            .cmd("HGETALL")
            .arg(format!("{prefix}:features"))
            .cmd("HGETALL")
            .arg(format!("{prefix}:segments"))
            .query_async(&mut connection)
            .await
            .unwrap();
        let parse = |items: HashMap<String, String>| -> HashMap<String, Value> {
            items
                .into_iter()
                .map(|(key, json)| (key, serde_json::from_str(&json).unwrap()))
                .collect()
        };
        let (flags, segments) = (parse(flags), parse(segments));
        if condition(&flags) {
            return (flags, segments);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Redis never held the expected flags: {flags:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[sqlx::test(migrations = false)]
async fn redis_holds_launchdarkly_layout_with_tombstones(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    config_api.flag("checkout").await;
    config_api.flag("gone").await;
    config_api
        .segment(json!({"key": "beta", "name": "Beta", "included": ["alice"]}))
        .await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;

    config_api
        .patch_flag("checkout", json!([{"kind": "turnFlagOn"}]))
        .await;
    config_api.delete_flag("gone").await;
    let (flags, segments) = stored(&redis, &environment.id, |flags| {
        flags.get("checkout").is_some_and(|flag| flag["on"] == true)
            && flags
                .get("gone")
                .is_some_and(|flag| flag["deleted"] == true)
    })
    .await;
    let payload = gateway
        .poll_until(&environment.sdk_key, |payload| {
            payload["flags"]["checkout"]["on"] == true
        })
        .await;
    assert_eq!(
        flags["checkout"], payload["flags"]["checkout"],
        "the JSON SDKs receive"
    );
    let gone = &flags["gone"];
    assert_eq!(gone["key"], "gone");
    assert!(gone["version"].as_u64().unwrap() > 1);
    assert_eq!(segments["beta"]["included"], json!(["alice"]));

    let mut connection = redis.connection().await;
    let prefix = format!("{}:{}", redis.prefix, environment.id);
    let inited: bool = redis::cmd("EXISTS")
        .arg(format!("{prefix}:$inited"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(inited, "LaunchDarkly's $inited marker");
    let meta: String = redis::cmd("GET")
        .arg(format!("{prefix}:$gateway"))
        .query_async(&mut connection)
        .await
        .unwrap();
    let meta: Value = serde_json::from_str(&meta).unwrap();
    assert_eq!(meta["projectKey"], PROJECT);
    assert_eq!(meta["environmentKey"], "test");
    assert!(meta["sequence"].as_u64().unwrap() > 0);
    let kinds: Vec<&str> = meta["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|credential| credential["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"server_sdk_key"), "{meta}");
    assert!(
        !meta.to_string().contains(&environment.sdk_key),
        "no secret in Redis"
    );
    let environments: Vec<String> = redis::cmd("SMEMBERS")
        .arg(format!("{}:$gateway:environments", redis.prefix))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(environments.len(), 2, "production and test");
    assert!(environments.contains(&environment.id));
    gateway.stop().await;
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn restarted_gateway_serves_from_redis_while_config_api_is_down(pool: PgPool) {
    let config_api = ConfigApi::start(pool.clone()).await;
    let grpc = config_api.grpc;
    let environment = config_api.project().await;
    config_api.flag("checkout").await;
    config_api
        .patch_flag("checkout", json!([{"kind": "turnFlagOn"}]))
        .await;
    let redis = RedisPrefix::new();
    let first = Gateway::start(gateway_config(grpc, &redis.prefix)).await;
    stored(&redis, &environment.id, |flags| {
        flags.get("checkout").is_some_and(|flag| flag["on"] == true)
    })
    .await;
    first.stop().await;
    config_api.stop().await;

    let mut config = gateway_config(grpc, &redis.prefix);
    config.config_api.init_timeout = Duration::from_millis(300);
    let second = Gateway::start(config).await;
    let payload = second
        .poll_until(&environment.sdk_key, |payload| {
            payload["flags"]["checkout"]["on"] == true
        })
        .await;
    assert_eq!(payload["segments"], json!({}));
    let mut stream = second.stream(&environment.sdk_key).await;
    let (name, put) = stream.next_event().await;
    assert_eq!(name, "put");
    assert_eq!(put["data"]["flags"]["checkout"]["on"], true);
    assert_eq!(
        second
            .get("/sdk/latest-all", "sdk-unknown", &[])
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // config-api comes back where the gateway expects it: the gateway resumes and streams
    // the change made after the restart.
    let config_api = ConfigApi::start_at(pool, grpc).await;
    config_api
        .patch_flag("checkout", json!([{"kind": "turnFlagOff"}]))
        .await;
    let (name, patch) = stream.next_event().await;
    assert_eq!(name, "patch");
    assert_eq!(patch["data"]["on"], false);
    second.stop().await;
    config_api.stop().await;
}
