//! `/metrics`: per-route request counts and the open-stream gauge.

use sqlx::PgPool;

use crate::harness::{gateway_config, ConfigApi, Gateway, RedisPrefix};

async fn metrics_text(gateway: &Gateway) -> String {
    let response = reqwest::get(gateway.url("/metrics")).await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    response.text().await.unwrap()
}

#[sqlx::test(migrations = false)]
async fn metrics_count_requests_and_open_streams(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    config_api.flag("checkout").await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;

    let polled = gateway
        .get("/sdk/latest-all", &environment.sdk_key, &[])
        .await;
    assert_eq!(polled.status(), reqwest::StatusCode::OK);
    let refused = gateway.get("/sdk/latest-all", "sdk-wrong", &[]).await;
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);

    let mut stream = gateway.stream(&environment.sdk_key).await;
    let (name, _) = stream.next_event().await;
    assert_eq!(name, "put");
    let open = r#"vexil_sse_streams_open{service="stream-gateway",credential="server_sdk_key"} 1"#;
    let text = metrics_text(&gateway).await;
    for expected in [
        r#"vexil_http_requests_total{service="stream-gateway",method="GET",route="/sdk/latest-all",status="200"} 1"#,
        r#"vexil_http_requests_total{service="stream-gateway",method="GET",route="/sdk/latest-all",status="401"} 1"#,
        open,
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }

    drop(stream);
    let closed =
        r#"vexil_sse_streams_open{service="stream-gateway",credential="server_sdk_key"} 0"#;
    let mut text = String::new();
    for _ in 0..50 {
        text = metrics_text(&gateway).await;
        if text.contains(closed) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        text.contains(closed),
        "the gauge falls when the client leaves:\n{text}"
    );
    gateway.stop().await;
    config_api.stop().await;
}
