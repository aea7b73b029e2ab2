//! Segments: LaunchDarkly JSON in and out, versions, instructions, references.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::harness::{Server, ADMIN_TOKEN};

const SEGMENTS: &str = "/projects/shop/environments/test/segments";

#[sqlx::test]
async fn segment_lifecycle(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    let (status, created) = server
        .admin(
            Method::POST,
            SEGMENTS,
            Some(json!({"key": "beta", "name": "Beta testers", "included": ["alice"], "tags": ["qa"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["version"], 1);
    assert_eq!(created["included"], json!(["alice"]));
    assert_eq!(created["name"], "Beta testers");

    let path = format!("{SEGMENTS}/beta");
    let (status, patched) = server
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"instructions": [{"kind": "addIncludedTargets", "values": ["bob"]}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["version"], 2);
    assert_eq!(patched["included"], json!(["alice", "bob"]));

    let mut replaced = patched.clone();
    replaced["excluded"] = json!(["mallory"]);
    let (status, body) = server
        .call(
            Some(ADMIN_TOKEN),
            Method::PUT,
            &path,
            Some(replaced.clone()),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], 3);
    let (status, body) = server
        .call(Some(ADMIN_TOKEN), Method::PUT, &path, Some(replaced), &[])
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "body version 2 is stale: {body}"
    );

    // A flag rule uses the segment, so it cannot be deleted.
    server.flag("shop", "checkout").await;
    let (status, body) = server
        .patch_test(
            "shop",
            "checkout",
            json!([{"kind": "addRule", "variation": 0, "clauses": [{"attribute": "segmentMatch", "op": "segmentMatch", "values": ["beta"]}]}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.admin(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("flag `checkout`"),
        "{body}"
    );
    server.stop().await;
}

#[sqlx::test]
async fn invalid_segments_are_rejected(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    let (status, body) = server
        .admin(
            Method::POST,
            SEGMENTS,
            Some(json!({"key": "bad", "rules": [{"id": "r", "weight": 200000, "clauses": [{"attribute": "a", "op": "in", "values": ["x"]}]}]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["errors"][0]["path"]
            .as_str()
            .unwrap()
            .starts_with("rules[0].weight"),
        "{body}"
    );

    let (status, body) = server
        .admin(
            Method::POST,
            SEGMENTS,
            Some(json!({"key": "x", "inclded": ["typo"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["path"], "inclded");

    // A segment that refers to a missing segment, then a cycle.
    let rule = |target: &str| json!([{"id": "r", "clauses": [{"attribute": "segmentMatch", "op": "segmentMatch", "values": [target]}]}]);
    let (status, body) = server
        .admin(
            Method::POST,
            SEGMENTS,
            Some(json!({"key": "a", "rules": rule("ghost")})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = server
        .admin(Method::POST, SEGMENTS, Some(json!({"key": "b"})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = server
        .admin(
            Method::POST,
            SEGMENTS,
            Some(json!({"key": "a", "rules": rule("b")})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, mut b) = server
        .admin(Method::GET, &format!("{SEGMENTS}/b"), None)
        .await;
    b["rules"] = rule("a");
    let (status, body) = server
        .admin(Method::PUT, &format!("{SEGMENTS}/b"), Some(b))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("cycle"), "{body}");
    server.stop().await;
}
