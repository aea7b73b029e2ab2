//! The whole service on SQLite, as `vexil up` runs it: started through `run` on a
//! `sqlite://` URL, in a fresh directory per test. The store itself is covered by the
//! contract suite; these check that REST, FlagSync, the scheduler, approvals and a restart
//! work end to end on it.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;
use vexil_proto::config::v1::watch_event::Event;
use vexil_proto::config::v1::WatchRequest;

use crate::harness::{test_config, Server};
use crate::sync::{describe, environment_id, flag_sync, next};

/// A fresh directory and the URL of `config.db` in it. Keep the directory until the test
/// ends: dropping it deletes the database.
fn database() -> (TempDir, String) {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/config.db", directory.path().display());
    (directory, url)
}

fn watch_from(environment_id: &str, sequence: Option<u64>) -> WatchRequest {
    WatchRequest {
        environment_id: environment_id.to_owned(),
        resume_from: sequence
            .map(|sequence| [(environment_id.to_owned(), sequence)].into())
            .unwrap_or_default(),
    }
}

async fn test_flag(server: &Server, flag: &str) -> Value {
    let (status, body) = server
        .admin(
            Method::GET,
            &format!("/projects/shop/environments/test/flags/{flag}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_watcher_gets_the_snapshot_then_rest_writes_as_upserts() {
    let (_directory, url) = database();
    let server = Server::start_url(&url).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    let test_id = environment_id(&server, "shop", "test").await;
    let mut stream = flag_sync(&server)
        .await
        .watch(watch_from(&test_id, None))
        .await
        .unwrap()
        .into_inner();
    // test: 3 credentials (seq 1-3), then checkout created (seq 4).
    assert_eq!(
        describe(&next(&mut stream).await),
        r#"snapshot test seq 4 flags ["checkout@1"] credentials 3"#
    );
    assert_eq!(describe(&next(&mut stream).await), "synced");

    server.flag("shop", "banner").await;
    assert_eq!(describe(&next(&mut stream).await), "flag banner@1 seq 5");
    server
        .patch_test("shop", "banner", json!([{"kind": "turnFlagOn"}]))
        .await;
    let event = next(&mut stream).await;
    assert_eq!(describe(&event), "flag banner@2 seq 6");
    let Some(Event::FlagUpsert(upsert)) = event.event else {
        unreachable!()
    };
    assert!(upsert.to_flag().unwrap().on);
    server.stop().await;
}

#[tokio::test]
async fn the_audit_log_lists_writes_newest_first_and_its_chain_verifies() {
    let (_directory, url) = database();
    let server = Server::start_url(&url).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    for kind in ["turnFlagOn", "turnFlagOff"] {
        let (status, body) = server
            .patch_test("shop", "checkout", json!([{ "kind": kind }]))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let (status, page) = server
        .admin(Method::GET, "/audit-log?limit=100", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let entries: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["sequence"].as_i64().unwrap(),
                entry["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (6, "flag.patch"),
            (5, "flag.patch"),
            (4, "flag.create"),
            (3, "environment.create"),
            (2, "environment.create"),
            (1, "project.create"),
        ]
    );
    let (status, report) = server.admin(Method::GET, "/audit-log/verify", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report, json!({"isIntact": true, "entriesChecked": 6}));
    server.stop().await;
}

#[tokio::test]
async fn a_scheduled_change_is_applied_and_published() {
    let (_directory, url) = database();
    let server = Server::start_url(&url).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    let test_id = environment_id(&server, "shop", "test").await;
    let mut stream = flag_sync(&server)
        .await
        .watch(watch_from(&test_id, Some(4)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(describe(&next(&mut stream).await), "synced");

    let execute_at = (time::OffsetDateTime::now_utc() + Duration::from_millis(300))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, body) = server
        .admin(
            Method::POST,
            "/projects/shop/flags/checkout/scheduled-changes",
            Some(json!({"environmentKey": "test", "executeAt": execute_at,
                        "instructions": [{"kind": "turnFlagOn"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The scheduler's write is published like any other: waiting for it is the deadline.
    assert_eq!(describe(&next(&mut stream).await), "flag checkout@2 seq 5");

    let flag = test_flag(&server, "checkout").await;
    assert_eq!((&flag["on"], &flag["version"]), (&json!(true), &json!(2)));
    let (_, changes) = server
        .admin(
            Method::GET,
            "/projects/shop/flags/checkout/scheduled-changes",
            None,
        )
        .await;
    assert_eq!(changes["items"][0]["status"], "applied", "{changes}");
    let (_, log) = server
        .admin(Method::GET, "/audit-log?flag=checkout&limit=1", None)
        .await;
    assert_eq!(log["items"][0]["action"], "flag.scheduled_change", "{log}");
    server.stop().await;
}

#[tokio::test]
async fn an_approval_request_is_reviewed_and_applied() {
    let (_directory, url) = database();
    let server = Server::start_url(&url).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    let alice = server
        .token(json!({"name": "alice", "role": "writer"}))
        .await;
    let bob = server.token(json!({"name": "bob", "role": "writer"})).await;
    let requests = "/projects/shop/flags/checkout/approval-requests";

    let (status, request) = server
        .call(
            Some(&alice),
            Method::POST,
            requests,
            Some(json!({"environmentKey": "test", "instructions": [{"kind": "turnFlagOn"}]})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    let id = request["id"].as_str().unwrap();
    let (status, body) = server
        .call(
            Some(&bob),
            Method::POST,
            &format!("{requests}/{id}/review"),
            Some(json!({"decision": "approve"})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "approved");
    let (status, body) = server
        .call(
            Some(&alice),
            Method::POST,
            &format!("{requests}/{id}/apply"),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["request"]["status"], "applied");

    let flag = test_flag(&server, "checkout").await;
    assert_eq!((&flag["on"], &flag["version"]), (&json!(true), &json!(2)));
    server.stop().await;
}

#[tokio::test]
async fn after_a_restart_data_tokens_and_watch_resumption_carry_on() {
    let (_directory, url) = database();
    let first = Server::start_url(&url).await;
    first.project("shop").await;
    first.flag("shop", "checkout").await;
    let reader = first
        .token(json!({"name": "dashboard", "role": "reader"}))
        .await;
    let test_id = environment_id(&first, "shop", "test").await;
    let mut stream = flag_sync(&first)
        .await
        .watch(watch_from(&test_id, Some(4)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(describe(&next(&mut stream).await), "synced");
    first
        .patch_test("shop", "checkout", json!([{"kind": "turnFlagOn"}]))
        .await;
    let last_seen = next(&mut stream).await;
    assert_eq!(describe(&last_seen), "flag checkout@2 seq 5");
    drop(stream);
    first.stop().await;

    let second = Server::start_url(&url).await;
    // A token made before the restart is still valid, and the data is all there.
    let (status, flag) = second
        .call(
            Some(&reader),
            Method::GET,
            "/projects/shop/environments/test/flags/checkout",
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{flag}");
    assert_eq!((&flag["on"], &flag["version"]), (&json!(true), &json!(2)));

    // The watcher missed one change, made after the restart; numbering carries on.
    second
        .patch_test("shop", "checkout", json!([{"kind": "turnFlagOff"}]))
        .await;
    let mut stream = flag_sync(&second)
        .await
        .watch(watch_from(&test_id, Some(last_seen.sequence)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(describe(&next(&mut stream).await), "flag checkout@3 seq 6");
    assert_eq!(describe(&next(&mut stream).await), "synced");
    second.stop().await;
}

#[tokio::test]
async fn a_second_service_on_the_same_file_fails_at_startup_naming_the_lock() {
    let (directory, url) = database();
    let first = Server::start_url(&url).await;

    let mut config = test_config().await;
    config.database.url = url;
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let started = vexil_config_api::run(config, http, grpc, CancellationToken::new());
    let error = tokio::time::timeout(Duration::from_secs(10), started)
        .await
        .expect("the second service gives up at startup instead of serving")
        .expect_err("the second service refuses a file in use");
    let message = format!("{error:#}");
    assert!(
        message.contains("is already open in another process")
            && message.contains(&format!(
                "{}.lock",
                directory.path().join("config.db").display()
            )),
        "{message}"
    );

    // The first one is unaffected.
    first.project("shop").await;
    first.stop().await;
}
