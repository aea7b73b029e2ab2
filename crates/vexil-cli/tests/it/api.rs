//! Runs config-api in-process (on the fresh PostgreSQL database of a `#[sqlx::test]`), and a
//! stand-in for analytics-worker's gRPC `Analytics` with fixed answers, for `vexil` to talk to.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use vexil_proto::analytics::v1 as proto;
use vexil_proto::analytics::v1::analytics_server::{Analytics, AnalyticsServer};

use crate::harness::Outcome;

pub const ADMIN_TOKEN: &str = "vexil-cli-test-admin-token";
pub const PROJECT: &str = "shop";

/// How long config-api may take to become ready.
const DEADLINE: Duration = Duration::from_secs(15);

/// An `http://` URL nothing listens on (a port bound and released again).
pub fn closed_url() -> String {
    let listener = StdTcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

/// Runs the built `vexil` with `args` and, when given, `VEXIL_API_TOKEN`; the caller's
/// `VEXIL_API_*` variables never leak in. Runs on a blocking thread so the servers of the
/// test keep answering meanwhile.
pub async fn vexil(args: &[&str], token: Option<&str>) -> Outcome {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    let token = token.map(str::to_owned);
    tokio::task::spawn_blocking(move || vexil_blocking(&args, token.as_deref()))
        .await
        .unwrap()
}

/// As [`vexil`], for tests without servers.
pub fn vexil_blocking(args: &[impl AsRef<str>], token: Option<&str>) -> Outcome {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vexil"));
    command
        .args(args.iter().map(AsRef::as_ref))
        .env_remove("VEXIL_API_URL")
        .env_remove("VEXIL_API_TOKEN");
    if let Some(token) = token {
        command.env("VEXIL_API_TOKEN", token);
    }
    let output = command.output().unwrap();
    Outcome {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// A running config-api; stops when dropped.
pub struct ConfigApi {
    pub url: String,
    client: reqwest::Client,
    shutdown: CancellationToken,
    _task: JoinHandle<anyhow::Result<()>>,
}

impl ConfigApi {
    /// Starts config-api asking analytics-worker at `analytics_grpc_url`, and waits until it
    /// is ready.
    pub async fn start(pool: PgPool, analytics_grpc_url: String) -> ConfigApi {
        let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let grpc = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", http.local_addr().unwrap());
        let mut config = vexil_config_api::config::Config {
            admin_token: Some(ADMIN_TOKEN.into()),
            service_token: Some("vexil-cli-test-service-token".into()),
            ..Default::default()
        };
        config.analytics.grpc_url = analytics_grpc_url;
        config.analytics.timeout = Duration::from_secs(2);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(vexil_config_api::serve(
            config,
            pool,
            http,
            grpc,
            shutdown.clone(),
        ));
        let api = ConfigApi {
            url,
            client: reqwest::Client::new(),
            shutdown,
            _task: task,
        };
        api.wait_until_ready().await;
        api
    }

    async fn wait_until_ready(&self) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let ready = self
                .client
                .get(format!("{}/health/ready", self.url))
                .send()
                .await
                .is_ok_and(|response| response.status().is_success());
            if ready {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "config-api did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `POST /api/v1{path}` as the admin, expecting 201 Created.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/api/v1{path}", self.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
        body
    }

    /// Creates the test project, with environments `production` and `test`.
    pub async fn project(&self) {
        self.create("/projects", json!({"key": PROJECT, "name": "Shop"}))
            .await;
    }

    /// Creates a flag in the test project (temporary unless the body says otherwise).
    pub async fn flag(&self, body: Value) {
        self.create(&format!("/projects/{PROJECT}/flags"), body)
            .await;
    }
}

impl Drop for ConfigApi {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Stands in for analytics-worker: answers `StaleFlags` from a fixed table (a flag not in
/// it served several variations, so it is not stale) and refuses every other query.
pub struct FakeAnalytics {
    pub grpc_url: String,
    shutdown: CancellationToken,
}

impl FakeAnalytics {
    pub async fn start(answers: Vec<proto::FlagStaleness>) -> FakeAnalytics {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let service = Answers(
            answers
                .into_iter()
                .map(|answer| (answer.flag_key.clone(), answer))
                .collect(),
        );
        let shutdown = CancellationToken::new();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(AnalyticsServer::new(service))
                .serve_with_incoming_shutdown(
                    TcpListenerStream::new(listener),
                    shutdown.clone().cancelled_owned(),
                ),
        );
        FakeAnalytics {
            grpc_url: format!("http://{address}"),
            shutdown,
        }
    }
}

impl Drop for FakeAnalytics {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

struct Answers(HashMap<String, proto::FlagStaleness>);

#[tonic::async_trait]
impl Analytics for Answers {
    async fn flag_usage(
        &self,
        _: Request<proto::FlagUsageRequest>,
    ) -> Result<Response<proto::FlagUsageResponse>, Status> {
        Err(Status::unimplemented("not in this stand-in"))
    }

    async fn contexts(
        &self,
        _: Request<proto::ContextsRequest>,
    ) -> Result<Response<proto::ContextsResponse>, Status> {
        Err(Status::unimplemented("not in this stand-in"))
    }

    async fn stale_flags(
        &self,
        request: Request<proto::StaleFlagsRequest>,
    ) -> Result<Response<proto::StaleFlagsResponse>, Status> {
        let flags = request
            .into_inner()
            .flag_keys
            .into_iter()
            .map(|key| {
                self.0.get(&key).cloned().unwrap_or(proto::FlagStaleness {
                    flag_key: key,
                    reason: proto::StaleReason::Unspecified as i32,
                    variations_served: 2,
                    evaluations: 10,
                    last_evaluated_unix_ms: Some(0),
                })
            })
            .collect();
        Ok(Response::new(proto::StaleFlagsResponse { flags }))
    }

    async fn experiment_statistics(
        &self,
        _: Request<proto::ExperimentStatisticsRequest>,
    ) -> Result<Response<proto::ExperimentStatisticsResponse>, Status> {
        Err(Status::unimplemented("not in this stand-in"))
    }
}
