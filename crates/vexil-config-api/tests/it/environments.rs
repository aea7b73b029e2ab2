//! Projects, environments and SDK keys.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;
use vexil_config_api::store::{ConfigStore, PostgresStore};

use crate::harness::Server;

#[sqlx::test]
async fn a_new_project_has_production_and_test_with_keys(pool: PgPool) {
    let server = Server::start(pool).await;
    let created = server.project("shop").await;
    let environments = created["environments"].as_array().unwrap();
    let summary: Vec<_> = environments
        .iter()
        .map(|e| (e["key"].as_str().unwrap(), e["critical"].as_bool().unwrap()))
        .collect();
    assert_eq!(summary, [("production", true), ("test", false)]);
    for environment in environments {
        let keys = environment["keys"].as_array().unwrap();
        let kinds: Vec<_> = keys.iter().map(|k| k["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["server", "mobile", "client"]);
        assert!(keys[0]["secret"].as_str().unwrap().starts_with("sdk-"));
        assert!(keys[1]["secret"].as_str().unwrap().starts_with("mob-"));
    }
    // Secrets are shown once: reading the environment shows hints only.
    let (status, read) = server
        .admin(Method::GET, "/projects/shop/environments/test", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let secret = environments[1]["keys"][0]["secret"].as_str().unwrap();
    assert!(!read.to_string().contains(secret));
    assert_eq!(read["keys"][0]["hint"], secret[secret.len() - 4..]);

    let (status, again) = server
        .admin(
            Method::POST,
            "/projects",
            Some(json!({"key": "shop", "name": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    server.stop().await;
}

#[sqlx::test]
async fn project_and_environment_crud(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    let (status, body) = server
        .admin(
            Method::PATCH,
            "/projects/shop",
            Some(json!({"name": "The Shop", "tags": ["retail"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "The Shop");

    let (status, body) = server
        .admin(
            Method::POST,
            "/projects/shop/environments",
            Some(json!({"key": "staging", "name": "Staging"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, list) = server
        .admin(Method::GET, "/projects/shop/environments", None)
        .await;
    let keys: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys, ["production", "test", "staging"]);

    let (status, _) = server
        .admin(Method::DELETE, "/projects/shop/environments/staging", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = server
        .admin(Method::GET, "/projects/shop/environments/staging", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["message"],
        "environment `staging` not found in project `shop`"
    );

    let (status, _) = server.admin(Method::DELETE, "/projects/shop", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = server.admin(Method::GET, "/projects/shop", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[sqlx::test]
async fn bad_keys_and_bodies_name_the_field(pool: PgPool) {
    let server = Server::start(pool).await;
    let (status, body) = server
        .admin(
            Method::POST,
            "/projects",
            Some(json!({"key": "no spaces", "name": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["path"], "key");

    let (status, body) = server
        .admin(
            Method::POST,
            "/projects",
            Some(json!({"key": "ok", "name": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["path"], "name");

    let (status, body) = server
        .admin(
            Method::POST,
            "/projects",
            Some(json!({"key": "ok", "name": "x", "colour": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("colour"),
        "{body}"
    );

    let huge = json!({"key": "ok", "name": "x".repeat(100 * 1024)});
    let (status, body) = server.admin(Method::POST, "/projects", Some(huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["code"], "payload_too_large");
    server.stop().await;
}

#[sqlx::test]
async fn rotating_a_key_can_keep_the_old_one_until_an_expiry(pool: PgPool) {
    let server = Server::start(pool).await;
    let created = server.project("shop").await;
    let old = created["environments"][1]["keys"][0]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let resolve = |secret: String| {
        let store = PostgresStore::new(server.pool.clone().unwrap());
        async move {
            let mut session = store.read().await.unwrap();
            session
                .resolve_credential(&secret)
                .await
                .unwrap()
                .map(|resolved| resolved.environment_key)
        }
    };
    assert_eq!(resolve(old.clone()).await.as_deref(), Some("test"));

    let expiry = (time::OffsetDateTime::now_utc() + time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, rotated) = server
        .admin(
            Method::POST,
            "/projects/shop/environments/test/keys/sdk/rotate",
            Some(json!({"oldKeyExpiresAt": expiry})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        resolve(old.clone()).await.as_deref(),
        Some("test"),
        "old key works until expiry"
    );
    assert_eq!(resolve(new.clone()).await.as_deref(), Some("test"));

    // Rotating again without an expiry ends every active key of that kind at once.
    let (status, rotated) = server
        .admin(
            Method::POST,
            "/projects/shop/environments/test/keys/sdk/rotate",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    assert_eq!(resolve(old).await, None);
    assert_eq!(resolve(new).await, None);
    let newest = rotated["secret"].as_str().unwrap().to_owned();
    assert_eq!(resolve(newest.clone()).await.as_deref(), Some("test"));

    let id = rotated["id"].as_str().unwrap();
    let (status, _) = server
        .admin(
            Method::DELETE,
            &format!("/projects/shop/environments/test/keys/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resolve(newest).await, None, "revoked");

    let (status, body) = server
        .admin(
            Method::POST,
            "/projects/shop/environments/test/keys/client/rotate",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    server.stop().await;
}
