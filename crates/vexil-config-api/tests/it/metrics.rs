//! `/metrics`: request counts by route pattern, in the OpenMetrics text format.

use reqwest::Method;
use sqlx::PgPool;

use crate::harness::Server;

#[sqlx::test]
async fn requests_are_counted_by_route_pattern(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    let (status, _) = server.admin(Method::GET, "/projects/shop", None).await;
    assert!(status.is_success());
    let (status, _) = server.admin(Method::GET, "/no-such-thing", None).await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);

    let response = reqwest::get(format!("http://{}/metrics", server.http))
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let text = response.text().await.unwrap();
    for expected in [
        r#"vexil_http_requests_total{service="config-api",method="POST",route="/api/v1/projects",status="201"} 1"#,
        r#"vexil_http_requests_total{service="config-api",method="GET",route="/api/v1/projects/{project}",status="200"} 1"#,
        r#"route="unmatched",status="404"} 1"#,
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
    server.stop().await;
}
