//! Slow clients, shutdown and startup without any data.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use crate::harness::{gateway_config, ConfigApi, Gateway, RedisPrefix, DEADLINE};

#[sqlx::test(migrations = false)]
async fn shutdown_ends_open_streams(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;
    let mut stream = gateway.stream(&environment.sdk_key).await;
    assert_eq!(stream.next_event().await.0, "put");
    let stopping = tokio::spawn(gateway.stop());
    stream.expect_end().await;
    stopping.await.unwrap();
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn without_config_api_or_redis_data_requests_get_503(_pool: PgPool) {
    let redis = RedisPrefix::new();
    // Nothing listens on the discard port of loopback.
    let mut config = gateway_config("127.0.0.1:9".parse().unwrap(), &redis.prefix);
    config.config_api.init_timeout = Duration::from_millis(100);
    let gateway = Gateway::start_unready(config).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ready = gateway
        .client
        .get(gateway.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let response = gateway.get("/sdk/latest-all", "sdk-anything", &[]).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    let live = gateway
        .client
        .get(gateway.url("/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    gateway.stop().await;
}

/// A client that stops reading neither delays other streams nor makes the gateway buffer
/// every change for it: once it reads again it gets a fresh `put`, not the backlog.
#[sqlx::test(migrations = false)]
async fn a_stalled_client_is_resynchronised_with_a_put(pool: PgPool) {
    const CHANGES: usize = 40;
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    // ~250 KB of flag JSON: a few changes fill the socket buffers of a stalled client.
    config_api
        .flag_with(json!({"key": "big", "name": "big", "variations": [
            {"value": {"blob": "x".repeat(250_000)}}, {"value": {}}
        ]}))
        .await;
    let redis = RedisPrefix::new();
    let mut config = gateway_config(config_api.grpc, &redis.prefix);
    config.sse.buffer_events = 4;
    let gateway = Gateway::start(config).await;

    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(8 * 1024).unwrap();
    let mut stalled = socket.connect(gateway.address).await.unwrap();
    let request = format!(
        "GET /all HTTP/1.1\r\nHost: gateway\r\nAuthorization: {}\r\n\r\n",
        environment.sdk_key
    );
    stalled.write_all(request.as_bytes()).await.unwrap();

    let mut reader = gateway.stream(&environment.sdk_key).await;
    assert_eq!(reader.next_event().await.0, "put");
    for index in 0..CHANGES {
        let kind = if index % 2 == 0 {
            "turnFlagOn"
        } else {
            "turnFlagOff"
        };
        config_api.patch_flag("big", json!([{"kind": kind}])).await;
        let (name, patch) = reader.next_event().await;
        assert_eq!(
            (name.as_str(), &patch["data"]["on"]),
            ("patch", &json!(index % 2 == 0))
        );
    }

    // Now read the stalled connection: the first put, some patches, then a second put.
    let mut received = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let read = tokio::time::timeout_at(deadline, stalled.read(&mut chunk))
            .await
            .expect("the stalled client gets a fresh put")
            .unwrap();
        assert!(read > 0, "the gateway closed the stalled stream");
        received.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&received);
        let puts = text.matches("event: put\n").count();
        let patches = text.matches("event: patch\n").count();
        if puts >= 2 {
            assert!(
                patches < CHANGES,
                "{patches} patches: the backlog was buffered"
            );
            break;
        }
    }
    gateway.stop().await;
    config_api.stop().await;
}
