//! Tokens, roles, scopes and critical environments: who may call what.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::harness::Server;

#[sqlx::test]
async fn missing_unknown_and_revoked_tokens_are_401(pool: PgPool) {
    let server = Server::start(pool).await;
    let (status, body) = server.call(None, Method::GET, "/projects", None, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"].as_str().unwrap().contains("Authorization"),
        "{body}"
    );
    let (status, _) = server
        .call(Some("vexil-api-nope"), Method::GET, "/projects", None, &[])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let secret = server.token(json!({"name": "ci", "role": "reader"})).await;
    let (status, _) = server
        .call(Some(&secret), Method::GET, "/projects", None, &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, tokens) = server.admin(Method::GET, "/tokens", None).await;
    let id = tokens["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        !tokens.to_string().contains(&secret),
        "token secrets are never listed"
    );
    let (status, _) = server
        .admin(Method::DELETE, &format!("/tokens/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .call(Some(&secret), Method::GET, "/projects", None, &[])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.stop().await;
}

/// Who calls, with which token, what, and the status they get.
type Row<'a> = (
    &'a str,
    &'a str,
    Method,
    &'a str,
    Option<serde_json::Value>,
    StatusCode,
);

/// One row per (token, request): the expected status.
#[sqlx::test]
async fn the_permissions_matrix(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.project("bank").await;
    server.flag("shop", "checkout").await;
    server.flag("bank", "loans").await;
    let reader = server
        .token(json!({"name": "reader", "role": "reader"}))
        .await;
    let writer = server
        .token(json!({"name": "writer", "role": "writer"}))
        .await;
    let admin = server
        .token(json!({"name": "admin", "role": "admin"}))
        .await;
    let bypass = server
        .token(json!({"name": "bypass", "role": "admin", "canBypassApprovals": true}))
        .await;
    let scoped = server
        .token(json!({"name": "scoped", "role": "writer", "projectKeys": ["shop"], "environmentKeys": ["test"]}))
        .await;

    let patch = |environment: &str| {
        Some(json!({"environmentKey": environment, "instructions": [{"kind": "turnFlagOn"}]}))
    };
    let new_flag = |key: &str| Some(json!({"key": key, "name": key}));
    use StatusCode as S;
    let rows: Vec<Row> = vec![
        (
            "reader",
            &reader,
            Method::GET,
            "/projects/shop/flags",
            None,
            S::OK,
        ),
        (
            "reader",
            &reader,
            Method::POST,
            "/projects/shop/flags",
            new_flag("r1"),
            S::FORBIDDEN,
        ),
        (
            "reader",
            &reader,
            Method::PATCH,
            "/projects/shop/flags/checkout",
            patch("test"),
            S::FORBIDDEN,
        ),
        (
            "reader",
            &reader,
            Method::GET,
            "/tokens",
            None,
            S::FORBIDDEN,
        ),
        (
            "writer",
            &writer,
            Method::POST,
            "/projects/shop/flags",
            new_flag("w1"),
            S::CREATED,
        ),
        (
            "writer",
            &writer,
            Method::PATCH,
            "/projects/shop/flags/checkout",
            patch("test"),
            S::OK,
        ),
        (
            "writer",
            &writer,
            Method::PATCH,
            "/projects/shop/flags/checkout",
            patch("production"),
            S::FORBIDDEN,
        ),
        (
            "writer",
            &writer,
            Method::POST,
            "/projects",
            Some(json!({"key": "w", "name": "w"})),
            S::FORBIDDEN,
        ),
        (
            "writer",
            &writer,
            Method::POST,
            "/projects/shop/environments/test/keys/sdk/rotate",
            None,
            S::FORBIDDEN,
        ),
        (
            "admin",
            &admin,
            Method::PATCH,
            "/projects/shop/flags/checkout",
            patch("production"),
            S::FORBIDDEN,
        ),
        (
            "admin",
            &admin,
            Method::POST,
            "/projects",
            Some(json!({"key": "a", "name": "a"})),
            S::CREATED,
        ),
        ("admin", &admin, Method::GET, "/tokens", None, S::OK),
        (
            "bypass",
            &bypass,
            Method::PATCH,
            "/projects/shop/flags/checkout",
            patch("production"),
            S::OK,
        ),
        (
            "scoped",
            &scoped,
            Method::GET,
            "/projects/bank/flags",
            None,
            S::FORBIDDEN,
        ),
        (
            "scoped",
            &scoped,
            Method::GET,
            "/projects/shop/flags",
            None,
            S::OK,
        ),
        (
            "scoped",
            &scoped,
            Method::PATCH,
            "/projects/shop/flags/checkout",
            patch("test"),
            S::OK,
        ),
        (
            "scoped",
            &scoped,
            Method::PATCH,
            "/projects/bank/flags/loans",
            patch("test"),
            S::FORBIDDEN,
        ),
        (
            "scoped",
            &scoped,
            Method::GET,
            "/projects/shop/environments/production",
            None,
            S::FORBIDDEN,
        ),
        (
            "scoped",
            &scoped,
            Method::GET,
            "/projects/shop/environments/test/flags/checkout",
            None,
            S::OK,
        ),
    ];
    let mut failures = Vec::new();
    for (who, token, method, path, body, expected) in rows {
        let (status, response) = server
            .call(Some(token), method.clone(), path, body, &[])
            .await;
        if status != expected {
            failures.push(format!(
                "{who} {method} {path}: expected {expected}, got {status}: {response}"
            ));
        }
        if status == S::FORBIDDEN {
            assert!(!response["message"].as_str().unwrap_or_default().is_empty());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // A scoped token sees only its environments of a flag.
    let (_, flag) = server
        .call(
            Some(&scoped),
            Method::GET,
            "/projects/shop/flags/checkout",
            None,
            &[],
        )
        .await;
    let environments: Vec<_> = flag["environments"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(environments, ["test"]);
    server.stop().await;
}

#[sqlx::test]
async fn forbidden_says_what_is_missing(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    let writer = server
        .token(json!({"name": "writer", "role": "writer"}))
        .await;
    let (status, body) = server
        .call(
            Some(&writer),
            Method::PATCH,
            "/projects/shop/flags/checkout",
            Some(json!({"environmentKey": "production", "instructions": [{"kind": "turnFlagOn"}]})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("approval request"),
        "{body}"
    );
    let (_, body) = server
        .call(Some(&writer), Method::GET, "/tokens", None, &[])
        .await;
    assert_eq!(
        body["message"],
        "token `writer` has role writer, this needs admin"
    );
    server.stop().await;
}
