//! Writes queue their FlagSync change and audit entry; the sequencer numbers and chains
//! them. Concurrent writers, rows a crashed replica left queued, and an environment
//! deleted with changes still queued.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::Method;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::harness::Server;

async fn test_environment_id(pool: &PgPool) -> Uuid {
    sqlx::query_scalar("SELECT id FROM config.environments WHERE key = 'test'")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn sequences(pool: &PgPool, environment_id: Uuid) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT sequence FROM config.changes WHERE environment_id = $1 ORDER BY sequence",
    )
    .bind(environment_id)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn concurrent_writes_get_gapless_sequences_and_an_intact_chain(pool: PgPool) {
    let server = Server::start(pool.clone()).await;
    server.project("shop").await;
    for index in 0..8 {
        server.flag("shop", &format!("flag-{index}")).await;
    }
    let environment_id = test_environment_id(&pool).await;
    let before = sequences(&pool, environment_id).await;

    let writes = (0..8).flat_map(|index| {
        let server = &server;
        (0..5).map(move |round| async move {
            let kind = if round % 2 == 0 {
                "turnFlagOn"
            } else {
                "turnFlagOff"
            };
            server
                .patch_test("shop", &format!("flag-{index}"), json!([{"kind": kind}]))
                .await
        })
    });
    for (status, body) in join_all(writes).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // Answered writes are numbered already: no waiting here.
    let after = sequences(&pool, environment_id).await;
    let last_before = before.last().copied().unwrap_or(0);
    let expected: Vec<i64> = (1..=last_before + 40).collect();
    assert_eq!(after, expected, "one number per change, no gaps");
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM config.change_queue")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(queued, 0);
    // Each flag's versions arrive in order.
    let versions: Vec<(String, i64)> = sqlx::query_as(
        "SELECT key, version FROM config.changes WHERE environment_id = $1 ORDER BY sequence",
    )
    .bind(environment_id)
    .fetch_all(&pool)
    .await
    .unwrap();
    for index in 0..8 {
        let key = format!("flag-{index}");
        let of_flag: Vec<i64> = versions
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .collect();
        assert!(
            of_flag.windows(2).all(|w| w[0] < w[1]),
            "{key}: {of_flag:?}"
        );
    }

    let (status, report) = server.admin(Method::GET, "/audit-log/verify", None).await;
    assert_eq!(status, StatusCode::OK);
    // project, 2 environments, 8 flags, 40 patches
    assert_eq!(report, json!({"isIntact": true, "entriesChecked": 51}));
    server.stop().await;
}

#[sqlx::test]
async fn rows_left_queued_by_a_crashed_replica_are_picked_up(pool: PgPool) {
    let server = Server::start(pool.clone()).await;
    server.project("shop").await;
    let environment_id = test_environment_id(&pool).await;
    let last: i64 = sequences(&pool, environment_id)
        .await
        .last()
        .copied()
        .unwrap_or(0);

    // A replica committed a write, then died before flushing.
    sqlx::query(
        "INSERT INTO config.change_queue (environment_id, kind, key, version, payload)
         VALUES ($1, 'segment_deleted', 'orphan', 3, '')",
    )
    .bind(environment_id)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO config.audit_queue (entry_id, at, actor_name, action, resource, diff)
         VALUES ($1, now(), 'crashed replica', 'segment.delete', 'projects/shop', '')",
    )
    .bind(Uuid::new_v4())
    .execute(&pool)
    .await
    .unwrap();

    let mut numbered = Vec::new();
    for _ in 0..50 {
        numbered = sequences(&pool, environment_id).await;
        if numbered.last() == Some(&(last + 1)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(numbered.last(), Some(&(last + 1)), "the sweep numbers it");
    let (_, page) = server.admin(Method::GET, "/audit-log", None).await;
    assert_eq!(page["items"][0]["actorName"], "crashed replica", "{page}");
    let (_, report) = server.admin(Method::GET, "/audit-log/verify", None).await;
    assert_eq!(report["isIntact"], true, "{report}");
    server.stop().await;
}

#[sqlx::test]
async fn queued_changes_of_a_deleted_environment_are_dropped(pool: PgPool) {
    let server = Server::start(pool.clone()).await;
    server.project("shop").await;
    let environment_id = test_environment_id(&pool).await;
    let last: i64 = sequences(&pool, environment_id)
        .await
        .last()
        .copied()
        .unwrap_or(0);
    sqlx::query(
        "INSERT INTO config.change_queue (environment_id, kind, key, version, payload)
         VALUES ($1, 'segment_deleted', 'orphan', 3, '')",
    )
    .bind(environment_id)
    .execute(&pool)
    .await
    .unwrap();

    let (status, body) = server
        .admin(Method::DELETE, "/projects/shop/environments/test", None)
        .await;
    assert!(status.is_success(), "{status} {body}");
    let kinds: Vec<(i64, String)> = sqlx::query_as(
        "SELECT sequence, kind FROM config.changes WHERE environment_id = $1 AND sequence > $2
         ORDER BY sequence",
    )
    .bind(environment_id)
    .bind(last)
    .fetch_all(&pool)
    .await
    .unwrap();
    // Either the sweep numbered the queued change before the deletion, or the deletion
    // dropped it; the stream always ends with `environment_deleted`.
    let (final_sequence, final_kind) = kinds.last().unwrap();
    assert_eq!(final_kind, "environment_deleted", "{kinds:?}");
    assert_eq!(*final_sequence, last + kinds.len() as i64, "{kinds:?}");
    server.stop().await;
}
