//! Starts config-api on `127.0.0.1:0` against a test database and talks to it.

use std::future::Future;
use std::net::SocketAddr;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use vexil_config_api::config::Config;

pub const ADMIN_TOKEN: &str = "vexil-api-test-bootstrap-admin-token";
pub const SERVICE_TOKEN: &str = "test-service-token";

/// A running config-api; stops when dropped.
pub struct Server {
    pub http: SocketAddr,
    pub grpc: SocketAddr,
    /// The test database; `None` for a service started on a `database.url`.
    pub pool: Option<PgPool>,
    client: reqwest::Client,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Server {
    pub async fn start(pool: PgPool) -> Server {
        let config = test_config().await;
        Server::spawn(Some(pool.clone()), |http, grpc, shutdown| {
            vexil_config_api::serve(config, pool, http, grpc, shutdown)
        })
        .await
    }

    /// Starts the service through `run`, on the store `database_url` names, as `vexil up`
    /// starts it.
    pub async fn start_url(database_url: &str) -> Server {
        let mut config = test_config().await;
        config.database.url = database_url.to_owned();
        Server::spawn(None, |http, grpc, shutdown| {
            vexil_config_api::run(config, http, grpc, shutdown)
        })
        .await
    }

    async fn spawn<Serve, Serving>(pool: Option<PgPool>, serve: Serve) -> Server
    where
        Serve: FnOnce(TcpListener, TcpListener, CancellationToken) -> Serving,
        Serving: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let grpc = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (http_address, grpc_address) = (http.local_addr().unwrap(), grpc.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(serve(http, grpc, shutdown.clone()));
        let server = Server {
            http: http_address,
            grpc: grpc_address,
            pool,
            client: reqwest::Client::new(),
            shutdown,
            task: Some(task),
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let url = format!("http://{}/health/ready", self.http);
            if let Ok(response) = self.client.get(&url).send().await {
                if response.status() == StatusCode::OK {
                    return;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "config-api did not become ready"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Stops the service and waits for it.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// Sends a request as the bootstrap admin.
    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(Some(ADMIN_TOKEN), method, path, body, &[]).await
    }

    /// Sends a request with any token (or none) and extra headers; returns status and JSON
    /// body (`null` when empty).
    pub async fn call(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let (status, _, body) = self
            .call_raw(token, method, path, body.map(|b| b.to_string()), headers)
            .await;
        let json = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| panic!("non-JSON body: {}", String::from_utf8_lossy(&body)))
        };
        (status, json)
    }

    pub async fn call_raw(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let url = format!("http://{}/api/v1{path}", self.http);
        let mut request = self.client.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    }

    /// Creates a project (with `production` and `test`) and returns the response.
    pub async fn project(&self, key: &str) -> Value {
        let (status, body) = self
            .admin(
                Method::POST,
                "/projects",
                Some(json!({"key": key, "name": key})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Creates a boolean flag in the project.
    pub async fn flag(&self, project: &str, key: &str) -> Value {
        let (status, body) = self
            .admin(
                Method::POST,
                &format!("/projects/{project}/flags"),
                Some(json!({"key": key, "name": key})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Creates an API token and returns its secret.
    pub async fn token(&self, body: Value) -> String {
        let (status, created) = self.admin(Method::POST, "/tokens", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["secret"].as_str().unwrap().to_owned()
    }

    /// Applies semantic instructions in the `test` environment as the admin.
    pub async fn patch_test(
        &self,
        project: &str,
        flag: &str,
        instructions: Value,
    ) -> (StatusCode, Value) {
        self.admin(
            Method::PATCH,
            &format!("/projects/{project}/flags/{flag}"),
            Some(json!({"environmentKey": "test", "instructions": instructions})),
        )
        .await
    }
}

/// The configuration every test service runs with: known admin and service tokens, a
/// 50 ms scheduler, a 64 KiB body limit, and no analytics-worker.
pub async fn test_config() -> Config {
    let mut config = Config {
        admin_token: Some(ADMIN_TOKEN.into()),
        service_token: Some(SERVICE_TOKEN.into()),
        scheduler_interval: std::time::Duration::from_millis(50),
        ..Config::default()
    };
    config.http.body_limit_bytes = 64 * 1024;
    // No analytics-worker in these tests: a port nothing listens on.
    config.analytics.grpc_url = format!("http://{}", closed_port().await);
    config
}

/// A loopback address that refuses connections.
async fn closed_port() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
