//! gRPC: FlagSync.Watch (snapshot, live changes, resume, several replicas) and
//! Credentials.Resolve, with the service token.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Request, Status, Streaming};
use vexil_proto::config::v1::credentials_client::CredentialsClient;
use vexil_proto::config::v1::flag_sync_client::FlagSyncClient;
use vexil_proto::config::v1::watch_event::Event;
use vexil_proto::config::v1::{ResolveRequest, WatchEvent, WatchRequest};

use crate::harness::{Server, SERVICE_TOKEN};

type Authed = InterceptedService<Channel, fn(Request<()>) -> Result<Request<()>, Status>>;

fn with_token(mut request: Request<()>) -> Result<Request<()>, Status> {
    let value: MetadataValue<_> = format!("Bearer {SERVICE_TOKEN}").parse().unwrap();
    request.metadata_mut().insert("authorization", value);
    Ok(request)
}

async fn channel(server: &Server) -> Channel {
    Channel::from_shared(format!("http://{}", server.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

pub async fn flag_sync(server: &Server) -> FlagSyncClient<Authed> {
    FlagSyncClient::with_interceptor(channel(server).await, with_token as fn(_) -> _)
}

pub async fn next(stream: &mut Streaming<WatchEvent>) -> WatchEvent {
    tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("a watch event within 10 s")
        .expect("a healthy stream")
        .expect("the stream stays open")
}

pub async fn environment_id(server: &Server, project: &str, environment: &str) -> String {
    let (_, body) = server
        .admin(
            Method::GET,
            &format!("/projects/{project}/environments/{environment}"),
            None,
        )
        .await;
    body["id"].as_str().unwrap().to_owned()
}

pub fn describe(event: &WatchEvent) -> String {
    match event.event.as_ref().unwrap() {
        Event::Snapshot(snapshot) => {
            let flags: Vec<_> = snapshot
                .flags
                .iter()
                .map(|f| format!("{}@{}", f.key, f.version))
                .collect();
            format!(
                "snapshot {} seq {} flags {:?} credentials {}",
                snapshot.environment_key,
                event.sequence,
                flags,
                snapshot.credentials.len()
            )
        }
        Event::FlagUpsert(flag) => {
            format!("flag {}@{} seq {}", flag.key, flag.version, event.sequence)
        }
        Event::FlagDeleted(flag) => format!(
            "flag deleted {}@{} seq {}",
            flag.key, flag.version, event.sequence
        ),
        Event::SegmentUpsert(segment) => format!(
            "segment {}@{} seq {}",
            segment.key, segment.version, event.sequence
        ),
        Event::SegmentDeleted(segment) => format!(
            "segment deleted {}@{} seq {}",
            segment.key, segment.version, event.sequence
        ),
        Event::CredentialChanged(change) => format!(
            "credential revoked={} seq {}",
            change.revoked, event.sequence
        ),
        Event::EnvironmentDeleted(_) => format!("environment deleted seq {}", event.sequence),
        Event::Synced(_) => "synced".into(),
    }
}

#[sqlx::test]
async fn watch_sends_a_snapshot_then_every_change(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    let environment_id = environment_id(&server, "shop", "test").await;
    let mut stream = flag_sync(&server)
        .await
        .watch(WatchRequest {
            environment_id: environment_id.clone(),
            resume_from: Default::default(),
        })
        .await
        .unwrap()
        .into_inner();
    // test: 3 credentials (seq 1-3), then checkout created (seq 4).
    assert_eq!(
        describe(&next(&mut stream).await),
        r#"snapshot test seq 4 flags ["checkout@1"] credentials 3"#
    );
    assert_eq!(describe(&next(&mut stream).await), "synced");

    server
        .patch_test("shop", "checkout", json!([{"kind": "turnFlagOn"}]))
        .await;
    let event = next(&mut stream).await;
    assert_eq!(describe(&event), "flag checkout@2 seq 5");
    let Some(Event::FlagUpsert(upsert)) = event.event else {
        unreachable!()
    };
    assert!(upsert.to_flag().unwrap().on);

    server
        .admin(
            Method::POST,
            "/projects/shop/environments/test/segments",
            Some(json!({"key": "beta"})),
        )
        .await;
    assert_eq!(describe(&next(&mut stream).await), "segment beta@1 seq 6");
    server
        .admin(Method::DELETE, "/projects/shop/flags/checkout", None)
        .await;
    assert_eq!(
        describe(&next(&mut stream).await),
        "flag deleted checkout@3 seq 7"
    );
    server
        .admin(
            Method::POST,
            "/projects/shop/environments/test/keys/sdk/rotate",
            None,
        )
        .await;
    assert_eq!(
        describe(&next(&mut stream).await),
        "credential revoked=true seq 8"
    );
    assert_eq!(
        describe(&next(&mut stream).await),
        "credential revoked=false seq 9"
    );
    server.stop().await;
}

#[sqlx::test]
async fn a_watcher_that_resumes_gets_only_what_it_missed(pool: PgPool) {
    let server = Server::start(pool.clone()).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    let environment_id = environment_id(&server, "shop", "test").await;
    server
        .patch_test("shop", "checkout", json!([{"kind": "turnFlagOn"}]))
        .await; // seq 5
    server
        .patch_test("shop", "checkout", json!([{"kind": "turnFlagOff"}]))
        .await; // seq 6
    let resume = |sequence: u64| WatchRequest {
        environment_id: environment_id.clone(),
        resume_from: [(environment_id.clone(), sequence)].into(),
    };
    let mut stream = flag_sync(&server)
        .await
        .watch(resume(4))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(describe(&next(&mut stream).await), "flag checkout@2 seq 5");
    assert_eq!(describe(&next(&mut stream).await), "flag checkout@3 seq 6");
    assert_eq!(describe(&next(&mut stream).await), "synced");
    drop(stream);

    // Up to date: nothing but the marker.
    let mut stream = flag_sync(&server)
        .await
        .watch(resume(6))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(describe(&next(&mut stream).await), "synced");
    drop(stream);

    // Changes pruned: a snapshot instead.
    sqlx::query("DELETE FROM config.changes WHERE sequence < 6")
        .execute(&pool)
        .await
        .unwrap();
    let mut stream = flag_sync(&server)
        .await
        .watch(resume(3))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        describe(&next(&mut stream).await),
        r#"snapshot test seq 6 flags ["checkout@3"] credentials 3"#
    );
    server.stop().await;
}

#[sqlx::test]
async fn a_watcher_that_resumes_learns_of_environments_deleted_meanwhile(pool: PgPool) {
    let server = Server::start(pool.clone()).await;
    server.project("shop").await;
    let test_id = environment_id(&server, "shop", "test").await;
    let production_id = environment_id(&server, "shop", "production").await;
    let (status, body) = server
        .admin(Method::DELETE, "/projects/shop/environments/test", None)
        .await;
    assert!(status.is_success(), "{status} {body}");

    // The client last saw both environments at sequence 3 (their credentials).
    let mut stream = flag_sync(&server)
        .await
        .watch(WatchRequest {
            environment_id: String::new(),
            resume_from: [(test_id.clone(), 3), (production_id.clone(), 3)].into(),
        })
        .await
        .unwrap()
        .into_inner();
    let deleted = next(&mut stream).await;
    assert_eq!(deleted.environment_id, test_id);
    assert_eq!(describe(&deleted), "environment deleted seq 4");
    assert_eq!(describe(&next(&mut stream).await), "synced");
    server.stop().await;
}

#[sqlx::test]
async fn changes_through_one_replica_reach_watchers_on_another(pool: PgPool) {
    let writer = Server::start(pool.clone()).await;
    let reader = Server::start(pool).await;
    writer.project("shop").await;
    writer.flag("shop", "checkout").await;
    let mut stream = flag_sync(&reader)
        .await
        .watch(WatchRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut initial = Vec::new();
    loop {
        let event = describe(&next(&mut stream).await);
        if event == "synced" {
            break;
        }
        initial.push(event);
    }
    initial.sort();
    assert_eq!(
        initial,
        [
            r#"snapshot production seq 4 flags ["checkout@1"] credentials 3"#,
            r#"snapshot test seq 4 flags ["checkout@1"] credentials 3"#
        ]
    );
    writer
        .patch_test("shop", "checkout", json!([{"kind": "turnFlagOn"}]))
        .await;
    assert_eq!(describe(&next(&mut stream).await), "flag checkout@2 seq 5");

    // In watch-all mode a new project's environments arrive as snapshots.
    writer.project("bank").await;
    let event = describe(&next(&mut stream).await);
    assert!(event.starts_with("snapshot production"), "{event}");
    writer.stop().await;
    reader.stop().await;
}

#[sqlx::test]
async fn resolve_maps_credentials_to_environments(pool: PgPool) {
    let server = Server::start(pool).await;
    let created = server.project("shop").await;
    let mut client =
        CredentialsClient::with_interceptor(channel(&server).await, with_token as fn(_) -> _);
    let sdk_key = created["environments"][0]["keys"][0]["secret"]
        .as_str()
        .unwrap();
    let resolved = client
        .resolve(ResolveRequest {
            credential: sdk_key.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            resolved.project_key.as_str(),
            resolved.environment_key.as_str()
        ),
        ("shop", "production")
    );
    assert_eq!(
        resolved.kind,
        vexil_proto::config::v1::CredentialKind::ServerSdkKey as i32
    );
    let error = client
        .resolve(ResolveRequest {
            credential: "sdk-unknown".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::NotFound);

    // Without the service token, nothing.
    let mut anonymous = CredentialsClient::new(channel(&server).await);
    let error = anonymous
        .resolve(ResolveRequest {
            credential: sdk_key.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::Unauthenticated);
    let mut anonymous_watch = FlagSyncClient::new(channel(&server).await);
    let error = anonymous_watch
        .watch(WatchRequest::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::Unauthenticated);
    server.stop().await;
}
