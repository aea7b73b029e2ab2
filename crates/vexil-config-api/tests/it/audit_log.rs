//! The audit log: every mutation recorded, filters, append-only, and a verifiable chain.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::harness::Server;

#[sqlx::test]
async fn mutations_are_recorded_with_actor_diff_and_request(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    let (status, _) = server
        .call(
            Some(crate::harness::ADMIN_TOKEN),
            Method::PATCH,
            "/projects/shop/flags/checkout",
            Some(json!({"environmentKey": "test", "comment": "launch", "instructions": [{"kind": "turnFlagOn"}]})),
            &[("x-request-id", "req-42")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, page) = server
        .admin(
            Method::GET,
            "/audit-log?project=shop&flag=checkout&limit=1",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let entry = &page["items"][0];
    assert_eq!(entry["action"], "flag.patch");
    assert_eq!(entry["actorName"], "bootstrap admin");
    assert_eq!(entry["environmentKey"], "test");
    assert_eq!(entry["comment"], "launch");
    assert_eq!(entry["requestId"], "req-42");
    assert_eq!(entry["clientIp"], "127.0.0.1");
    assert!(
        entry["diff"]
            .as_str()
            .unwrap()
            .contains("~ on: false -> true"),
        "{entry}"
    );
    assert!(
        entry["diff"]
            .as_str()
            .unwrap()
            .contains("~ version: 1 -> 2"),
        "{entry}"
    );
    assert!(page["nextBeforeSequence"].is_number());

    let (_, all) = server
        .admin(Method::GET, "/audit-log?limit=1000", None)
        .await;
    let actions: Vec<_> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .rev()
        .collect();
    assert_eq!(
        actions,
        [
            "project.create",
            "environment.create",
            "environment.create",
            "flag.create",
            "flag.patch"
        ]
    );
    server.stop().await;
}

#[sqlx::test]
async fn the_table_refuses_update_and_delete(pool: PgPool) {
    let server = Server::start(pool.clone()).await;
    server.project("shop").await;
    for statement in [
        "UPDATE config.audit_log SET comment = 'x'",
        "DELETE FROM config.audit_log",
        "TRUNCATE config.audit_log",
    ] {
        let error = sqlx::query(statement).execute(&pool).await.unwrap_err();
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    server.stop().await;
}

#[sqlx::test]
async fn verify_finds_the_first_row_altered_behind_the_apis_back(pool: PgPool) {
    let server = Server::start(pool.clone()).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    let (status, report) = server.admin(Method::GET, "/audit-log/verify", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report, json!({"isIntact": true, "entriesChecked": 4}));

    // Someone with database access rewrites history, bypassing the trigger.
    let mut connection = pool.acquire().await.unwrap();
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut *connection)
        .await
        .unwrap();
    sqlx::query("UPDATE config.audit_log SET actor_name = 'mallory' WHERE sequence = 2")
        .execute(&mut *connection)
        .await
        .unwrap();
    sqlx::query("SET session_replication_role = origin")
        .execute(&mut *connection)
        .await
        .unwrap();
    drop(connection);

    let (_, report) = server.admin(Method::GET, "/audit-log/verify", None).await;
    assert_eq!(report["isIntact"], false, "{report}");
    assert_eq!(report["entriesChecked"], 1);
    assert_eq!(report["firstBroken"]["sequence"], 2);
    assert!(report["firstBroken"]["reason"]
        .as_str()
        .unwrap()
        .contains("altered"));
    server.stop().await;
}

#[sqlx::test]
async fn verify_detects_a_deleted_row(pool: PgPool) {
    let server = Server::start(pool.clone()).await;
    server.project("shop").await;
    let mut connection = pool.acquire().await.unwrap();
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut *connection)
        .await
        .unwrap();
    sqlx::query("DELETE FROM config.audit_log WHERE sequence = 2")
        .execute(&mut *connection)
        .await
        .unwrap();
    sqlx::query("SET session_replication_role = origin")
        .execute(&mut *connection)
        .await
        .unwrap();
    drop(connection);
    let (_, report) = server.admin(Method::GET, "/audit-log/verify", None).await;
    assert_eq!(report["firstBroken"]["sequence"], 3, "{report}");
    server.stop().await;
}
