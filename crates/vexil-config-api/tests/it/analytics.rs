//! The analytics endpoints' own checks (parameters, scopes, stale candidates) and their
//! answer while analytics-worker is unreachable. With the worker running they are tested
//! end to end in the workspace's system tests.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::harness::Server;

const USAGE: &str = "/projects/shop/environments/test/flags/checkout/usage";

#[sqlx::test]
async fn an_unreachable_worker_is_a_503_naming_it(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    for path in [
        USAGE.to_owned(),
        "/projects/shop/environments/test/flags/checkout/experiment?metric=purchase".to_owned(),
        "/projects/shop/environments/test/contexts".to_owned(),
    ] {
        let (status, body) = server.admin(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        assert_eq!(body["code"], "unavailable", "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("analytics-worker is unavailable"),
            "{body}"
        );
    }
    server.stop().await;
}

#[sqlx::test]
async fn parameters_are_checked_before_the_worker_is_asked(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    for (path, status, needle) in [
        (
            format!("{USAGE}?granularity=week"),
            StatusCode::BAD_REQUEST,
            "granularity",
        ),
        (
            format!("{USAGE}?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z"),
            StatusCode::BAD_REQUEST,
            "from: must be before `to`",
        ),
        (
            format!("{USAGE}?from=yesterday"),
            StatusCode::BAD_REQUEST,
            "from",
        ),
        (
            "/projects/shop/environments/test/flags/nope/usage".to_owned(),
            StatusCode::NOT_FOUND,
            "nope",
        ),
        (
            "/projects/shop/environments/test/flags/checkout/experiment".to_owned(),
            StatusCode::BAD_REQUEST,
            "metric",
        ),
        (
            "/projects/shop/environments/test/contexts?limit=0".to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit",
        ),
        (
            "/projects/shop/flags/stale".to_owned(),
            StatusCode::BAD_REQUEST,
            "environment",
        ),
        (
            "/projects/shop/flags/stale?environment=test&threshold-days=-1".to_owned(),
            StatusCode::BAD_REQUEST,
            "threshold-days",
        ),
        (
            "/projects/shop/flags/stale?environment=staging".to_owned(),
            StatusCode::NOT_FOUND,
            "staging",
        ),
    ] {
        let (actual, body) = server.admin(Method::GET, &path, None).await;
        assert_eq!(actual, status, "{path}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{path}: {body}"
        );
    }
    server.stop().await;
}

#[sqlx::test]
async fn stale_flags_without_old_temporary_flags_need_no_worker(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    // Temporary, but created just now: not a candidate with the default 30-day threshold.
    server.flag("shop", "checkout").await;
    let (status, body) = server
        .admin(
            Method::GET,
            "/projects/shop/flags/stale?environment=test",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"environmentKey": "test", "thresholdDays": 30, "windowDays": 7, "items": []})
    );
    // With a threshold of 0 days it is a candidate, and the worker must be asked.
    let (status, body) = server
        .admin(
            Method::GET,
            "/projects/shop/flags/stale?environment=test&threshold-days=0",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    server.stop().await;
}

#[sqlx::test]
async fn a_flag_cannot_be_called_stale(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    let (status, body) = server
        .admin(
            Method::POST,
            "/projects/shop/flags",
            Some(json!({"key": "stale", "name": "Stale"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["path"], "key", "{body}");
    server.stop().await;
}

#[sqlx::test]
async fn readers_outside_the_environment_scope_are_refused(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    let token = server
        .token(json!({"name": "prod reader", "role": "reader", "projectKeys": ["shop"], "environmentKeys": ["production"]}))
        .await;
    let (status, body) = server
        .call(Some(&token), Method::GET, USAGE, None, &[])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    server.stop().await;
}
