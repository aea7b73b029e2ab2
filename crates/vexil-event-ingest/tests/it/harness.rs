//! Runs config-api (on a fresh PostgreSQL database) and event ingest in-process on
//! `127.0.0.1:0`, against the real Kafka-protocol broker at `VEXIL_TEST_KAFKA_BROKERS`
//! on a topic of its own, and reads back what was produced.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Message};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use vexil_event_ingest::config::Config;
use vexil_proto::events::v1::EventEnvelope;

pub const ADMIN_TOKEN: &str = "vexil-ingest-test-admin-token";
pub const SERVICE_TOKEN: &str = "vexil-ingest-test-service-token";
pub const PROJECT: &str = "shop";

/// How long anything may take before a test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The broker the tests use; unset, the test fails naming the variable.
pub fn kafka_brokers() -> String {
    match std::env::var("VEXIL_TEST_KAFKA_BROKERS") {
        Ok(value) if !value.trim().is_empty() => value,
        _ => panic!(
            "VEXIL_TEST_KAFKA_BROKERS is not set: run the tests through scripts/test-env, \
             which starts Postgres, Redis and Kafka when needed and exports their addresses \
             (scripts/test-env cargo test -p vexil-event-ingest)"
        ),
    }
}

/// A topic name no earlier run used.
pub fn unique_topic(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("vexil-ingest-test-{test}-{}-{nanos}", std::process::id())
}

/// A running config-api; stops when dropped.
pub struct ConfigApi {
    pub http: SocketAddr,
    pub grpc: SocketAddr,
    client: reqwest::Client,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// The `test` environment of the test project and its three credentials.
pub struct Environment {
    pub id: String,
    pub sdk_key: String,
    pub sdk_key_id: String,
    pub mobile_key: String,
    pub client_side_id: String,
}

impl ConfigApi {
    pub async fn start(pool: PgPool) -> ConfigApi {
        let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let grpc = TcpListener::bind("127.0.0.1:0").await.unwrap();
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
        let client = reqwest::Client::new();
        wait_until_ready(&client, http_address, "config-api").await;
        ConfigApi {
            http: http_address,
            grpc: grpc_address,
            client,
            shutdown,
            task: Some(task),
        }
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

    /// Creates the test project; returns its `test` environment.
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
        let key = |kind: &str| {
            environment["keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|key| key["kind"] == kind)
                .unwrap_or_else(|| panic!("no {kind} key in {environment}"))
                .clone()
        };
        let secret = |key: &Value| key["secret"].as_str().unwrap().to_owned();
        Environment {
            id: environment["id"].as_str().unwrap().to_owned(),
            sdk_key: secret(&key("server")),
            sdk_key_id: key("server")["id"].as_str().unwrap().to_owned(),
            mobile_key: secret(&key("mobile")),
            client_side_id: secret(&key("client")),
        }
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

/// The configuration the tests start from: config-api at `grpc`, a fresh one-partition
/// topic (so records come back in the order they were produced), created at startup.
pub fn ingest_config(grpc: SocketAddr, topic: &str) -> Config {
    let mut config = Config {
        service_token: Some(SERVICE_TOKEN.into()),
        ..Default::default()
    };
    config.config_api.grpc_url = format!("http://{grpc}");
    config.kafka.brokers = kafka_brokers();
    config.kafka.topic = topic.to_owned();
    config.kafka.topic_partitions = 1;
    config.kafka.topic_replication_factor = 1;
    config.kafka.produce_timeout = Duration::from_secs(10);
    config.credentials.cache_ttl = Duration::from_millis(500);
    config
}

/// A running event ingest; stops when dropped.
pub struct Ingest {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Ingest {
    /// Starts event ingest and waits until it is ready.
    pub async fn start(config: Config) -> Ingest {
        Ingest::start_with(config, vexil_event_ingest::run).await
    }

    /// As [`Ingest::start`], through `run` (`vexil_event_ingest::run_with_queue`, say).
    pub async fn start_with<F, Fut>(config: Config, run: F) -> Ingest
    where
        F: FnOnce(Config, TcpListener, CancellationToken) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        config.validate().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(run(config, listener, shutdown.clone()));
        let ingest = Ingest {
            address,
            client: reqwest::Client::new(),
            shutdown,
            task: Some(task),
        };
        wait_until_ready(&ingest.client, address, "event ingest").await;
        ingest
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// `POST path` with the body and headers given.
    pub async fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    /// `POST /bulk` with the SDK key and a payload id, as a server-side SDK does.
    pub async fn bulk(&self, sdk_key: &str, payload_id: &str, events: &Value) -> reqwest::Response {
        self.post(
            "/bulk",
            &[
                ("authorization", sdk_key),
                ("content-type", "application/json"),
                ("x-launchdarkly-event-schema", "4"),
                ("x-launchdarkly-payload-id", payload_id),
                ("user-agent", "RustTestClient/1.0"),
            ],
            events.to_string(),
        )
        .await
    }

    /// The text of `/metrics`.
    pub async fn metrics(&self) -> String {
        let response = self.client.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    }

    /// Stops event ingest and waits for it to finish.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(DEADLINE, task)
                .await
                .expect("event ingest stops in time")
                .unwrap()
                .unwrap();
        }
    }
}

impl Drop for Ingest {
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

/// One record read back from the topic.
#[derive(Debug)]
pub struct Produced {
    pub key: String,
    pub envelope: EventEnvelope,
    pub headers: Vec<(String, String)>,
}

impl Produced {
    pub fn event(&self) -> Value {
        serde_json::from_slice(&self.envelope.event_json).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Reads a topic from the beginning.
pub struct TopicReader {
    consumer: StreamConsumer,
    topic: String,
}

impl TopicReader {
    pub fn new(topic: &str) -> TopicReader {
        TopicReader::with_brokers(&kafka_brokers(), topic)
    }

    pub fn with_brokers(brokers: &str, topic: &str) -> TopicReader {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("group.id", unique_topic("reader"))
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .create()
            .expect("creating a Kafka consumer");
        consumer
            .subscribe(&[topic])
            .unwrap_or_else(|error| panic!("failed to subscribe to {topic}: {error}"));
        TopicReader {
            consumer,
            topic: topic.to_owned(),
        }
    }

    /// The next `count` records.
    pub async fn read(&self, count: usize) -> Vec<Produced> {
        let mut produced = Vec::with_capacity(count);
        while produced.len() < count {
            let message = tokio::time::timeout(DEADLINE, self.consumer.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "timed out reading {}: got {} of {count} records: {produced:#?}",
                        self.topic,
                        produced.len()
                    )
                })
                .unwrap_or_else(|error| panic!("failed to read {}: {error}", self.topic));
            let headers = message
                .headers()
                .map(|headers| {
                    headers
                        .iter()
                        .map(|header| {
                            let value = header.value.unwrap_or_default();
                            (
                                header.key.to_owned(),
                                String::from_utf8_lossy(value).into_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            produced.push(Produced {
                key: String::from_utf8(message.key().unwrap_or_default().to_vec()).unwrap(),
                envelope: EventEnvelope::decode(message.payload().unwrap_or_default())
                    .expect("record values are EventEnvelopes"),
                headers,
            });
        }
        produced
    }
}

/// Events as SDKs send them (spec 6.3), all about context `u-5` unless said otherwise.
pub mod events {
    use serde_json::{json, Value};

    pub const CREATED: u64 = 1_718_000_000_123;

    pub fn index() -> Value {
        json!({"kind": "index", "creationDate": CREATED,
               "context": {"kind": "user", "key": "u-5", "email": "a@x.io"}})
    }

    pub fn feature() -> Value {
        json!({"kind": "feature", "creationDate": CREATED, "key": "new-checkout", "version": 7,
               "context": {"kind": "user", "key": "u-5"}, "variation": 1, "value": true,
               "default": false})
    }

    pub fn custom() -> Value {
        json!({"kind": "custom", "creationDate": CREATED, "key": "checkout-completed",
               "contextKeys": {"user": "u-5"}, "data": {"cart": 3}, "metricValue": 59.9})
    }

    pub fn identify_org() -> Value {
        json!({"kind": "identify", "creationDate": CREATED,
               "context": {"kind": "org", "key": "acme"}})
    }

    pub fn summary() -> Value {
        json!({"kind": "summary", "startDate": 1_718_000_000_000u64, "endDate": 1_718_000_005_000u64,
               "features": {"new-checkout": {"default": false, "contextKinds": ["user"],
                 "counters": [{"variation": 1, "version": 7, "value": true, "count": 41}]}}})
    }

    pub fn diagnostic_init() -> Value {
        json!({"kind": "diagnostic-init", "creationDate": CREATED,
               "id": {"diagnosticId": "3f1c", "sdkKeySuffix": "abcdef"},
               "sdk": {"name": "rust-server-sdk"}, "configuration": {}, "platform": {}})
    }
}
