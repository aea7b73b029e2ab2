//! Approval requests: create, review by someone else, apply with re-validation.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::harness::Server;

const REQUESTS: &str = "/projects/shop/flags/checkout/approval-requests";

#[sqlx::test]
async fn a_critical_change_goes_through_request_review_and_apply(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    let alice = server
        .token(json!({"name": "alice", "role": "writer"}))
        .await;
    let bob = server.token(json!({"name": "bob", "role": "writer"})).await;
    let call = |token: &str, method: Method, path: String, body: Option<Value>| {
        let token = token.to_owned();
        let server = &server;
        async move { server.call(Some(&token), method, &path, body, &[]).await }
    };

    let (status, request) = call(
        &alice,
        Method::POST,
        REQUESTS.into(),
        Some(json!({"environmentKey": "production", "comment": "launch", "instructions": [{"kind": "turnFlagOn"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert_eq!(request["status"], "pending");
    let id = request["id"].as_str().unwrap().to_owned();

    // Not yet approved: applying is refused; the requester cannot approve.
    let (status, _) = call(&alice, Method::POST, format!("{REQUESTS}/{id}/apply"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = call(
        &alice,
        Method::POST,
        format!("{REQUESTS}/{id}/review"),
        Some(json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, body) = call(
        &bob,
        Method::POST,
        format!("{REQUESTS}/{id}/review"),
        Some(json!({"decision": "approve", "comment": "lgtm"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "approved");
    assert_eq!(body["reviewedByName"], "bob");

    let (status, body) = call(&alice, Method::POST, format!("{REQUESTS}/{id}/apply"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["request"]["status"], "applied");
    assert_eq!(body["flag"]["on"], true);
    assert_eq!(body["flag"]["version"], 2);

    let (status, _) = call(&alice, Method::POST, format!("{REQUESTS}/{id}/apply"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "applied once only");

    let (_, log) = server
        .admin(Method::GET, "/audit-log?flag=checkout", None)
        .await;
    let actions: Vec<_> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .rev()
        .collect();
    assert_eq!(
        actions,
        [
            "flag.create",
            "approval.create",
            "approval.approve",
            "flag.apply_approval",
            "approval.apply"
        ]
    );
    server.stop().await;
}

#[sqlx::test]
async fn requests_are_validated_when_made_and_again_when_applied(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    server.flag("shop", "other").await;
    let (status, body) = server
        .admin(
            Method::POST,
            REQUESTS,
            Some(json!({"environmentKey": "production", "instructions": [{"kind": "removePrerequisite", "key": "nope"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (status, request) = server
        .admin(
            Method::POST,
            REQUESTS,
            Some(json!({"environmentKey": "production", "instructions": [{"kind": "addPrerequisite", "key": "other", "variation": 0}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    let id = request["id"].as_str().unwrap();
    let reviewer = server
        .token(json!({"name": "reviewer", "role": "writer"}))
        .await;
    let (status, _) = server
        .call(
            Some(&reviewer),
            Method::POST,
            &format!("{REQUESTS}/{id}/review"),
            Some(json!({"decision": "approve"})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Meanwhile the prerequisite disappears, so the approved change no longer applies.
    let (status, body) = server
        .admin(Method::DELETE, "/projects/shop/flags/other", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = server
        .admin(Method::POST, &format!("{REQUESTS}/{id}/apply"), None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, list) = server
        .admin(Method::GET, &format!("{REQUESTS}?status=approved"), None)
        .await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "still approved, nothing applied"
    );

    let (status, request) = server
        .admin(
            Method::POST,
            REQUESTS,
            Some(json!({"environmentKey": "production", "instructions": [{"kind": "turnFlagOn"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = request["id"].as_str().unwrap();
    let (status, body) = server
        .call(
            Some(&reviewer),
            Method::POST,
            &format!("{REQUESTS}/{id}/review"),
            Some(json!({"decision": "decline"})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = server
        .admin(Method::POST, &format!("{REQUESTS}/{id}/apply"), None)
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "declined requests are not applied"
    );
    server.stop().await;
}
