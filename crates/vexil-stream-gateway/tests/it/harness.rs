//! Runs config-api (on a fresh PostgreSQL database) and the gateway in-process on
//! `127.0.0.1:0`, against the real Redis at `VEXIL_TEST_REDIS_URL` under a unique prefix,
//! and talks to them over HTTP.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const ADMIN_TOKEN: &str = "vexil-gateway-test-admin-token";
pub const SERVICE_TOKEN: &str = "vexil-gateway-test-service-token";
pub const PROJECT: &str = "shop";

/// How long anything may take before a test fails.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// The Redis the tests use; a missing server fails the test naming the variable.
pub fn redis_url() -> String {
    std::env::var("VEXIL_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A running config-api; stops when dropped.
pub struct ConfigApi {
    pub http: SocketAddr,
    pub grpc: SocketAddr,
    client: reqwest::Client,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl ConfigApi {
    pub async fn start(pool: PgPool) -> ConfigApi {
        ConfigApi::start_at(pool, "127.0.0.1:0".parse().unwrap()).await
    }

    /// Starts config-api with gRPC on `grpc` (to come back where a gateway expects it).
    pub async fn start_at(pool: PgPool, grpc: SocketAddr) -> ConfigApi {
        let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let grpc = TcpListener::bind(grpc).await.unwrap();
        let (http_address, grpc_address) = (http.local_addr().unwrap(), grpc.local_addr().unwrap());
        let config = vexil_config_api::config::Config {
            admin_token: Some(ADMIN_TOKEN.into()),
            service_token: Some(SERVICE_TOKEN.into()),
            ..Default::default()
        };
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(vexil_config_api::serve(
            config,
            pool,
            http,
            grpc,
            shutdown.clone(),
        ));
        let server = ConfigApi {
            http: http_address,
            grpc: grpc_address,
            client: reqwest::Client::new(),
            shutdown,
            task: Some(task),
        };
        wait_until_ready(&server.client, http_address, "config-api").await;
        server
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// Sends a request as the admin; returns status and JSON body (`null` when empty).
    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("http://{}/api/v1{path}", self.http))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let bytes = response.bytes().await.unwrap();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, json)
    }

    /// Creates the test project; returns the `test` environment's id and server SDK key.
    pub async fn project(&self) -> Environment {
        let (status, created) = self
            .admin(
                Method::POST,
                "/projects",
                Some(json!({"key": PROJECT, "name": PROJECT})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let environment = created["environments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|environment| environment["key"] == "test")
            .unwrap();
        let sdk_key = environment["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|key| key["kind"] == "server")
            .unwrap();
        Environment {
            id: environment["id"].as_str().unwrap().to_owned(),
            sdk_key: sdk_key["secret"].as_str().unwrap().to_owned(),
            sdk_key_id: sdk_key["id"].as_str().unwrap().to_owned(),
        }
    }

    /// Creates a boolean flag (off everywhere).
    pub async fn flag(&self, key: &str) {
        self.flag_with(json!({"key": key, "name": key})).await;
    }

    pub async fn flag_with(&self, body: Value) {
        let (status, created) = self
            .admin(
                Method::POST,
                &format!("/projects/{PROJECT}/flags"),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    }

    /// Applies semantic instructions to a flag in the `test` environment.
    pub async fn patch_flag(&self, key: &str, instructions: Value) {
        let (status, body) = self
            .admin(
                Method::PATCH,
                &format!("/projects/{PROJECT}/flags/{key}"),
                Some(json!({"environmentKey": "test", "instructions": instructions})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    pub async fn delete_flag(&self, key: &str) {
        let (status, body) = self
            .admin(
                Method::DELETE,
                &format!("/projects/{PROJECT}/flags/{key}"),
                None,
            )
            .await;
        assert!(status.is_success(), "{status} {body}");
    }

    pub async fn segment(&self, body: Value) {
        let (status, created) = self
            .admin(
                Method::POST,
                &format!("/projects/{PROJECT}/environments/test/segments"),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    }

    pub async fn revoke_key(&self, id: &str) {
        let (status, body) = self
            .admin(
                Method::DELETE,
                &format!("/projects/{PROJECT}/environments/test/keys/{id}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

impl Drop for ConfigApi {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The `test` environment of the test project.
pub struct Environment {
    pub id: String,
    pub sdk_key: String,
    pub sdk_key_id: String,
}

/// A unique Redis key prefix, whose keys are deleted when it is dropped.
pub struct RedisPrefix {
    pub prefix: String,
    client: redis::Client,
}

impl RedisPrefix {
    pub fn new() -> RedisPrefix {
        let url = redis_url();
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut connection = client
            .get_connection_with_timeout(Duration::from_secs(2))
            .unwrap_or_else(|error| {
                panic!("Redis at VEXIL_TEST_REDIS_URL ({url}) is not reachable: {error}")
            });
        let _: () = redis::cmd("PING").query(&mut connection).unwrap();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        RedisPrefix {
            prefix: format!("vexil-test-{}-{nanos}", std::process::id()),
            client,
        }
    }

    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        self.client
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        if let Ok(mut connection) = self.client.get_connection() {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}:*", self.prefix))
                .query(&mut connection)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut connection);
            }
        }
    }
}

/// A running gateway; stops when dropped.
pub struct Gateway {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// The gateway configuration the tests start from.
pub fn gateway_config(grpc: SocketAddr, prefix: &str) -> vexil_stream_gateway::config::Config {
    let mut config = vexil_stream_gateway::config::Config {
        service_token: Some(SERVICE_TOKEN.into()),
        ..Default::default()
    };
    config.config_api.grpc_url = format!("http://{grpc}");
    config.config_api.init_timeout = Duration::from_secs(10);
    config.config_api.max_reconnect_delay = Duration::from_millis(500);
    config.redis.url = redis_url();
    config.redis.prefix = prefix.to_owned();
    config
}

impl Gateway {
    /// Starts a gateway and waits until it is ready.
    pub async fn start(config: vexil_stream_gateway::config::Config) -> Gateway {
        let gateway = Gateway::start_unready(config).await;
        wait_until_ready(&gateway.client, gateway.address, "the gateway").await;
        gateway
    }

    pub async fn start_unready(config: vexil_stream_gateway::config::Config) -> Gateway {
        config.validate().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(vexil_stream_gateway::run(
            config,
            listener,
            shutdown.clone(),
        ));
        Gateway {
            address,
            client: reqwest::Client::new(),
            shutdown,
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// `GET path` with `Authorization: key` and extra headers.
    pub async fn get(&self, path: &str, key: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.get(self.url(path)).header("authorization", key);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    /// The polling payload as JSON, once it satisfies `condition`.
    pub async fn poll_until(&self, key: &str, condition: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let response = self.get("/sdk/latest-all", key, &[]).await;
            if response.status() == StatusCode::OK {
                let payload: Value = response.json().await.unwrap();
                if condition(&payload) {
                    return payload;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the payload never satisfied the condition"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Opens `/all`.
    pub async fn stream(&self, key: &str) -> SseClient {
        let response = self.get("/all", key, &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        SseClient {
            response,
            buffer: Vec::new(),
        }
    }

    /// Stops the gateway and waits for it to finish.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(DEADLINE, task)
                .await
                .expect("the gateway stops in time")
                .unwrap()
                .unwrap();
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn wait_until_ready(client: &reqwest::Client, address: SocketAddr, what: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Ok(response) = client
            .get(format!("http://{address}/health/ready"))
            .send()
            .await
        {
            if response.status() == StatusCode::OK {
                return;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One SSE message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Event { name: String, data: Value },
    Comment,
}

/// Reads an SSE response message by message.
pub struct SseClient {
    pub response: reqwest::Response,
    buffer: Vec<u8>,
}

impl SseClient {
    /// Reads `response`, an SSE stream.
    pub fn new(response: reqwest::Response) -> SseClient {
        SseClient {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next message; `None` when the server ended the stream.
    pub async fn next_message(&mut self) -> Option<Message> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|pair| pair == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                return Some(parse(&block[..end]));
            }
            let chunk = tokio::time::timeout(DEADLINE, self.response.chunk())
                .await
                .expect("an SSE message within the deadline")
                .expect("a healthy stream")?;
            self.buffer.extend_from_slice(&chunk);
        }
    }

    /// The next event, skipping heartbeat comments.
    pub async fn next_event(&mut self) -> (String, Value) {
        loop {
            match self.next_message().await.expect("the stream stays open") {
                Message::Event { name, data } => return (name, data),
                Message::Comment => {}
            }
        }
    }

    /// Waits for the server to end the stream, failing on any event in between.
    pub async fn expect_end(&mut self) {
        while let Some(message) = self.next_message().await {
            assert_eq!(message, Message::Comment, "unexpected event before the end");
        }
    }
}

fn parse(block: &[u8]) -> Message {
    let text = std::str::from_utf8(block).unwrap();
    if text.starts_with(':') {
        return Message::Comment;
    }
    let mut lines = text.lines();
    let name = lines
        .next()
        .and_then(|line| line.strip_prefix("event: "))
        .unwrap_or_else(|| panic!("no event line in {text:?}"));
    let data = lines
        .next()
        .and_then(|line| line.strip_prefix("data: "))
        .unwrap_or_else(|| panic!("no data line in {text:?}"));
    assert!(lines.next().is_none(), "one data line per event: {text:?}");
    Message::Event {
        name: name.to_owned(),
        data: serde_json::from_str(data).unwrap(),
    }
}
