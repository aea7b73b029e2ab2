//! Scheduled changes: applied at their time, exactly once with several replicas, and
//! surviving a restart.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::harness::Server;

const CHANGES: &str = "/projects/shop/flags/checkout/scheduled-changes";

fn in_the_future(delay: Duration) -> String {
    (time::OffsetDateTime::now_utc() + delay)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

async fn wait_until_done(server: &Server, expected: usize) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (_, list) = server.admin(Method::GET, CHANGES, None).await;
        let done = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|change| change["status"] != "pending")
            .count();
        if done == expected {
            return list;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "scheduled changes still pending: {list}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[sqlx::test]
async fn each_change_applies_exactly_once_across_replicas_and_restarts(pool: PgPool) {
    let first = Server::start(pool.clone()).await;
    first.project("shop").await;
    first.flag("shop", "checkout").await;
    // Twenty changes, each adding a different target: applying one twice would fail
    // (the value is already targeted) and show up as a failed change.
    let at = in_the_future(Duration::from_millis(1500));
    for index in 0..20 {
        let (status, body) = first
            .admin(
                Method::POST,
                CHANGES,
                Some(json!({
                    "environmentKey": "test",
                    "executeAt": at,
                    "instructions": [{"kind": "addTargets", "variation": 0, "values": [format!("user-{index}")]}]
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // The replica that accepted them stops; two others apply them.
    first.stop().await;
    let second = Server::start(pool.clone()).await;
    let third = Server::start(pool).await;
    let list = wait_until_done(&second, 20).await;
    let statuses: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert!(statuses.iter().all(|status| *status == "applied"), "{list}");

    let (_, flag) = third
        .admin(
            Method::GET,
            "/projects/shop/environments/test/flags/checkout",
            None,
        )
        .await;
    assert_eq!(flag["version"], 21, "one version per change");
    assert_eq!(flag["targets"][0]["values"].as_array().unwrap().len(), 20);
    let (_, log) = third
        .admin(Method::GET, "/audit-log?flag=checkout&limit=1000", None)
        .await;
    let applied = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "flag.scheduled_change")
        .count();
    assert_eq!(applied, 20);
    second.stop().await;
    third.stop().await;
}

#[sqlx::test]
async fn a_change_that_no_longer_applies_fails_with_a_reason(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    let (status, body) = server
        .admin(
            Method::POST,
            CHANGES,
            Some(json!({"environmentKey": "test", "executeAt": in_the_future(Duration::from_millis(800)),
                        "instructions": [{"kind": "addTargets", "variation": 0, "values": ["alice"]}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    server
        .patch_test(
            "shop",
            "checkout",
            json!([{"kind": "addTargets", "variation": 1, "values": ["alice"]}]),
        )
        .await;
    let list = wait_until_done(&server, 1).await;
    let change = &list["items"][0];
    assert_eq!(change["status"], "failed", "{change}");
    assert!(!change["failureReason"].as_str().unwrap().is_empty());

    // Cancelling: only pending changes.
    let (_, created) = server
        .admin(
            Method::POST,
            CHANGES,
            Some(json!({"environmentKey": "test", "executeAt": in_the_future(Duration::from_secs(3600)),
                        "instructions": [{"kind": "turnFlagOn"}]})),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let (status, _) = server
        .admin(Method::DELETE, &format!("{CHANGES}/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = server
        .admin(Method::DELETE, &format!("{CHANGES}/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Critical environments need the right to change them directly.
    let writer = server.token(json!({"name": "w", "role": "writer"})).await;
    let (status, _) = server
        .call(
            Some(&writer),
            Method::POST,
            CHANGES,
            Some(json!({"environmentKey": "production", "executeAt": in_the_future(Duration::from_secs(60)), "instructions": [{"kind": "turnFlagOn"}]})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server.stop().await;
}
