//! A gateway with `persistence.kind = "memory"` (as inside `vexil up`) starts, becomes
//! ready and serves once config-api syncs, without ever connecting to Redis.

use std::io::ErrorKind;

use serde_json::json;
use sqlx::PgPool;
use vexil_stream_gateway::config::PersistenceKind;

use crate::harness::{gateway_config, ConfigApi, Gateway};

#[sqlx::test(migrations = false)]
async fn memory_copy_gateway_serves_without_touching_redis(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    config_api.flag("checkout").await;
    // A "Redis" that never answers: the kernel completes any connection to it and queues
    // it here, so a connection attempt, even one that then timed out, is seen below.
    let redis = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    redis.set_nonblocking(true).unwrap();
    let mut config = gateway_config(config_api.grpc, "unused");
    config.redis.url = format!("redis://{}", redis.local_addr().unwrap());
    config.persistence.kind = PersistenceKind::Memory;

    let gateway = Gateway::start(config).await;
    config_api
        .patch_flag("checkout", json!([{"kind": "turnFlagOn"}]))
        .await;
    let payload = gateway
        .poll_until(&environment.sdk_key, |payload| {
            payload["flags"]["checkout"]["on"] == true
        })
        .await;
    assert_eq!(payload["flags"]["checkout"]["key"], "checkout");
    // Stopping waits for the writer's last flush, so every write has been made by now.
    gateway.stop().await;
    config_api.stop().await;

    match redis.accept() {
        Err(error) if error.kind() == ErrorKind::WouldBlock => {}
        Ok((_, peer)) => panic!("the gateway connected to redis.url from {peer}"),
        Err(error) => panic!("checking redis.url's listener failed: {error}"),
    }
}
