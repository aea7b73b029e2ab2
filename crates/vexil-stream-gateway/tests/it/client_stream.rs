//! Client-side and mobile streaming (`/eval`, `/meval`, `/ping`): a `put` of the context's
//! evaluations, a `patch` after a flag change, a fresh `put` when a change may affect other
//! flags, and the end of the stream on revocation and shutdown.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::client_env::{client_project, encode, targeted_flags};
use crate::harness::{gateway_config, ConfigApi, Gateway, RedisPrefix, SseClient, PROJECT};

async fn open(
    gateway: &Gateway,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> SseClient {
    let mut request = gateway.client.request(
        Method::from_bytes(method.as_bytes()).unwrap(),
        gateway.url(path),
    );
    if let Some(key) = key {
        request = request.header("authorization", key);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{method} {path}");
    assert_eq!(
        response.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    SseClient::new(response)
}

#[sqlx::test(migrations = false)]
async fn streams_send_put_then_patch_then_put_after_a_prerequisite_change(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = client_project(&config_api).await;
    targeted_flags(&config_api).await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;
    let eve = json!({"kind": "user", "key": "eve", "email": "eve@example.com"});
    let id = &environment.client_side_id;

    let mut browser = open(
        &gateway,
        "GET",
        &format!("/eval/{id}/{}", encode(&eve, false)),
        None,
        None,
    )
    .await;
    let mut mobile = open(
        &gateway,
        "REPORT",
        "/meval?withReasons=true",
        Some(&environment.mobile_key),
        Some(&eve),
    )
    .await;
    let (name, put) = browser.next_event().await;
    assert_eq!(name, "put");
    assert_eq!(
        put.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["browser", "everywhere"]
    );
    assert_eq!(put["browser"]["value"], true);
    assert!(put["browser"].get("reason").is_none());
    let version = put["browser"]["version"].as_u64().unwrap();
    let (name, put) = mobile.next_event().await;
    assert_eq!(name, "put");
    assert_eq!(
        put.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["everywhere", "mobile"]
    );
    assert_eq!(put["mobile"]["value"], "red");
    assert_eq!(put["mobile"]["reason"]["kind"], "RULE_MATCH");

    // Nobody depends on `browser`: a patch of it alone; mobile clients never saw it.
    config_api
        .patch_flag("browser", json!([{"kind": "turnFlagOff"}]))
        .await;
    let (name, patch) = browser.next_event().await;
    assert_eq!(name, "patch");
    assert_eq!(patch["key"], "browser");
    assert_eq!(patch["value"], false);
    assert!(patch["version"].as_u64().unwrap() > version);

    // `everywhere` becomes a prerequisite of `mobile`: that change is a patch of `mobile`;
    // a later change of `everywhere` may change `mobile` too, so everything is resent.
    config_api
        .patch_flag(
            "mobile",
            json!([{"kind": "addPrerequisite", "key": "everywhere", "variation": 0}]),
        )
        .await;
    let (name, patch) = mobile.next_event().await;
    assert_eq!((name.as_str(), &patch["key"]), ("patch", &json!("mobile")));
    assert_eq!(patch["prerequisites"], json!(["everywhere"]));
    config_api
        .patch_flag("everywhere", json!([{"kind": "turnFlagOff"}]))
        .await;
    let (name, put) = mobile.next_event().await;
    assert_eq!(name, "put");
    assert_eq!(put["everywhere"]["value"], 2);
    assert_eq!(
        put["mobile"]["value"], "blue",
        "the off prerequisite fails `mobile`"
    );
    assert_eq!(put["mobile"]["reason"]["kind"], "PREREQUISITE_FAILED");
    let (name, put) = browser.next_event().await;
    assert_eq!(name, "put");
    assert_eq!(put["everywhere"]["value"], 2);

    // Archiving a flag is a delete for the clients that had it.
    let (status, body) = config_api
        .admin(
            Method::POST,
            &format!("/projects/{PROJECT}/flags/browser/archive"),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let (name, delete) = browser.next_event().await;
    assert_eq!(name, "delete");
    assert_eq!(delete["key"], "browser");
    gateway.stop().await;
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn revocation_ends_mobile_streams_and_shutdown_ends_all(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = client_project(&config_api).await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;
    let user = json!({"key": "u"});
    let id = &environment.client_side_id;
    let path = format!("/meval/{}", encode(&user, true));
    let mut mobile = open(&gateway, "GET", &path, Some(&environment.mobile_key), None).await;
    assert_eq!(mobile.next_event().await, ("put".to_owned(), json!({})));
    let mut ping = open(&gateway, "GET", &format!("/ping/{id}"), None, None).await;
    // The ping's data is a single space (not JSON, which the harness's reader expects).
    let chunk = ping.response.chunk().await.unwrap().unwrap();
    assert_eq!(chunk.as_ref(), b"event: ping\ndata:  \n\n");
    let mut browser = open(
        &gateway,
        "REPORT",
        &format!("/eval/{id}"),
        None,
        Some(&user),
    )
    .await;
    assert_eq!(browser.next_event().await.0, "put");

    config_api.revoke_key(&environment.mobile_key_id).await;
    mobile.expect_end().await;
    let response = gateway.get(&path, &environment.mobile_key, &[]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // The revocation changed no flag: the browser stream stays quiet, the ping stream too.
    gateway.stop().await;
    browser.expect_end().await;
    ping.expect_end().await;
    config_api.stop().await;
}
