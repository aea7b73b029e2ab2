//! Issue 5's broker pause, through the whole event pipeline: config-api, event-ingest and
//! analytics-worker in this process on a tansu broker of this test's own, which stops
//! answering (SIGSTOP keeps its in-memory data) and comes back (SIGCONT). While it is
//! stopped ingest answers 503 with `Retry-After`; once it is back, config-api's usage API
//! counts every evaluation whose payload got a 202 before, during or after the pause, each
//! exactly once, including payloads that got 503 and were retried with the same payload
//! id, as SDKs retry them.
//!
//! Each phase counts evaluations of its own flag, so a loss in one phase cannot be hidden
//! by a duplicate in another.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{Message as _, Offset, TopicPartitionList};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::scratch::Scratch;
use crate::stack::{address, bind, Service};

const ADMIN_TOKEN: &str = "vexil-broker-pause-admin-token";
const SERVICE_TOKEN: &str = "vexil-broker-pause-service-token";
const PROJECT: &str = "shop";
const PARTITIONS: i32 = 3;
/// Ingest's `kafka.produce_timeout`: how long a request waits for the stopped broker.
const PRODUCE_TIMEOUT: Duration = Duration::from_secs(2);
/// Requests before and after the pause; request `i` counts `i + 1` evaluations of the
/// phase's flag.
const REQUESTS_PER_PHASE: u64 = 4;
/// Requests while the broker is stopped, each refused after `PRODUCE_TIMEOUT`, so the
/// pause lasts about this many times 2 s.
/// Long enough for records to time out in flight, after which librdkafka bumps the
/// producer's epoch and `tansu` refuses it: ingest must replace its producer to recover.
const REFUSED_DURING_PAUSE: u64 = 4;
/// Bounds each wait: a service starting, the broker taking events again, the counts.
const DEADLINE: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_answered_202_around_a_broker_pause_is_counted_once() {
    let scratch = Scratch::new("vexil-pause");
    let databases = [scratch.database("config_api"), scratch.database("worker")];
    // As a task, so that the databases are dropped whether the scenario passes or panics.
    let outcome = tokio::spawn(scenario(scratch.clone(), databases.clone())).await;
    // The topics and the consumer group live in this test's broker, gone with it.
    scratch.remove(&databases, &[], &[]).await;
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

async fn scenario(scratch: Scratch, databases: [String; 2]) {
    let broker = OwnBroker::start().await;
    let events_topic = scratch.kafka_name("events");
    let dead_letter_topic = scratch.kafka_name("dead-letters");
    broker
        .create_topics(&[(&events_topic, PARTITIONS), (&dead_letter_topic, 1)])
        .await;
    let config_api_pool = scratch.create_database(&databases[0]).await;
    let worker_pool = scratch.create_database(&databases[1]).await;
    let services = Services::start(
        &broker.address,
        &events_topic,
        &dead_letter_topic,
        config_api_pool.clone(),
        worker_pool.clone(),
    )
    .await;
    let sdk_key = services.create_flags(&["before", "during", "after"]).await;
    let ingest = Ingest::new(services.ingest.http, sdk_key);

    let mut expected = BTreeMap::new();
    for i in 0..REQUESTS_PER_PHASE {
        let payload = Payload::new("before", i + 1);
        let status = ingest.post(&payload).await;
        assert_eq!(status, StatusCode::ACCEPTED, "before the pause");
        *expected.entry(payload.flag).or_default() += payload.evaluations;
    }

    broker.signal("-STOP");
    let mut refused = Vec::new();
    for i in 0..REFUSED_DURING_PAUSE {
        let payload = Payload::new("during", i + 1);
        let started = tokio::time::Instant::now();
        let response = ingest.send(&payload).await;
        let elapsed = started.elapsed();
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "while the broker is stopped"
        );
        assert_eq!(response.headers()["retry-after"], "1");
        assert!(
            elapsed < PRODUCE_TIMEOUT + Duration::from_secs(3),
            "503 only after {elapsed:?}"
        );
        refused.push(payload);
    }
    broker.signal("-CONT");

    // The broker takes events again: new payloads are accepted...
    for i in 0..REQUESTS_PER_PHASE {
        let payload = Payload::new("after", i + 1);
        ingest.post_until_accepted(&payload).await;
        *expected.entry(payload.flag).or_default() += payload.evaluations;
    }
    // ...and, as an SDK retries them, the refused ones with their payload ids. A first
    // copy that reached the broker after all is counted once with its retry.
    for payload in &refused {
        ingest.post_until_accepted(payload).await;
        *expected.entry(payload.flag).or_default() += payload.evaluations;
    }

    services
        .wait_for_counts(&broker.address, &events_topic, &worker_pool, &expected)
        .await;
    let dead_letters = end_offsets(&broker.address, &dead_letter_topic, 1).await;
    assert!(
        dead_letters.is_empty(),
        "the worker dead-lettered records: {dead_letters:?}"
    );

    services.stop().await;
    config_api_pool.close().await;
    worker_pool.close().await;
}

/// One analytics payload: a summary counting `evaluations` evaluations of flag `flag`
/// (variation 0), under a payload id of its own.
struct Payload {
    flag: &'static str,
    evaluations: u64,
    id: String,
    body: Value,
}

impl Payload {
    fn new(flag: &'static str, evaluations: u64) -> Payload {
        let now = unix_ms();
        Payload {
            flag,
            evaluations,
            id: format!("{flag}-{evaluations}-{now}"),
            body: json!([{
                "kind": "summary",
                "startDate": now - 1000,
                "endDate": now,
                "features": {flag: {"default": false, "contextKinds": ["user"], "counters": [
                    {"variation": 0, "version": 1, "value": true, "count": evaluations}
                ]}},
            }]),
        }
    }
}

/// Posts payloads to event ingest's `/bulk`.
struct Ingest {
    url: String,
    sdk_key: String,
    client: reqwest::Client,
}

impl Ingest {
    fn new(http: SocketAddr, sdk_key: String) -> Ingest {
        Ingest {
            url: format!("http://{http}/bulk"),
            sdk_key,
            client: reqwest::Client::new(),
        }
    }

    async fn send(&self, payload: &Payload) -> reqwest::Response {
        self.client
            .post(&self.url)
            .header("authorization", &self.sdk_key)
            .header("x-launchdarkly-payload-id", &payload.id)
            .header("x-launchdarkly-event-schema", "4")
            .json(&payload.body)
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST {} failed: {error}", self.url))
    }

    async fn post(&self, payload: &Payload) -> StatusCode {
        self.send(payload).await.status()
    }

    /// Retries on 503 (as SDKs do after `Retry-After`) until the payload is accepted.
    async fn post_until_accepted(&self, payload: &Payload) {
        let started = tokio::time::Instant::now();
        let deadline = started + DEADLINE;
        let mut refusals = 0;
        loop {
            match self.post(payload).await {
                StatusCode::ACCEPTED if refusals == 0 => return,
                StatusCode::ACCEPTED => {
                    // Shown with --nocapture: how long the pipeline took to recover.
                    eprintln!(
                        "payload {} accepted after {refusals} refusals, {:?}",
                        payload.id,
                        started.elapsed()
                    );
                    return;
                }
                StatusCode::SERVICE_UNAVAILABLE => refusals += 1,
                other => panic!("payload {} answered {other}", payload.id),
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "payload {} was refused for {DEADLINE:?} after the broker resumed",
                payload.id
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// config-api, analytics-worker and event ingest on the test's broker.
struct Services {
    config_api: Service,
    worker: Service,
    ingest: Service,
    client: reqwest::Client,
}

impl Services {
    async fn start(
        brokers: &str,
        events_topic: &str,
        dead_letter_topic: &str,
        config_api_pool: PgPool,
        worker_pool: PgPool,
    ) -> Services {
        let client = reqwest::Client::new();
        let (worker_http, worker_grpc) = (bind().await, bind().await);
        let worker_grpc_address = address(&worker_grpc);
        let mut worker = {
            let mut config = vexil_analytics_worker::config::Config::default();
            config.kafka.brokers = brokers.to_owned();
            config.kafka.topic = events_topic.to_owned();
            config.kafka.dead_letter_topic = dead_letter_topic.to_owned();
            config.kafka.group_id = format!("{events_topic}-worker");
            config.kafka.batch_linger = Duration::from_millis(50);
            config.service_token = Some(SERVICE_TOKEN.into());
            Service::spawn("analytics-worker", address(&worker_http), |shutdown| {
                vexil_analytics_worker::serve(
                    config,
                    worker_pool,
                    worker_http,
                    worker_grpc,
                    shutdown,
                )
            })
        };

        let (config_api_http, config_api_grpc) = (bind().await, bind().await);
        let config_api_grpc_address = address(&config_api_grpc);
        let mut config_api = {
            let mut config = vexil_config_api::config::Config {
                admin_token: Some(ADMIN_TOKEN.into()),
                service_token: Some(SERVICE_TOKEN.into()),
                ..Default::default()
            };
            config.analytics.grpc_url = format!("http://{worker_grpc_address}");
            Service::spawn("config-api", address(&config_api_http), |shutdown| {
                vexil_config_api::serve(
                    config,
                    config_api_pool,
                    config_api_http,
                    config_api_grpc,
                    shutdown,
                )
            })
        };

        let ingest_http = bind().await;
        let mut ingest = {
            let mut config = vexil_event_ingest::config::Config {
                service_token: Some(SERVICE_TOKEN.into()),
                ..Default::default()
            };
            config.config_api.grpc_url = format!("http://{config_api_grpc_address}");
            config.kafka.brokers = brokers.to_owned();
            config.kafka.topic = events_topic.to_owned();
            config.kafka.create_topic = false;
            config.kafka.produce_timeout = PRODUCE_TIMEOUT;
            config
                .validate()
                .expect("a valid event ingest configuration");
            Service::spawn("event-ingest", address(&ingest_http), |shutdown| {
                vexil_event_ingest::run(config, ingest_http, shutdown)
            })
        };

        for service in [&mut worker, &mut config_api, &mut ingest] {
            service.wait_until_ready(&client).await;
        }
        Services {
            config_api,
            worker,
            ingest,
            client,
        }
    }

    /// Calls config-api's REST API as the admin; fails unless it succeeds.
    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("http://{}/api/v1{path}", self.config_api.http);
        let mut request = self
            .client
            .request(method.clone(), &url)
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let bytes = response.bytes().await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        body
    }

    /// Creates the project and `flags`; returns the `test` environment's SDK key.
    async fn create_flags(&self, flags: &[&str]) -> String {
        let project = self
            .api(
                Method::POST,
                "/projects",
                Some(json!({"key": PROJECT, "name": "Shop"})),
            )
            .await;
        for flag in flags {
            self.api(
                Method::POST,
                &format!("/projects/{PROJECT}/flags"),
                Some(json!({"key": flag, "name": flag})),
            )
            .await;
        }
        project["environments"]
            .as_array()
            .and_then(|environments| environments.iter().find(|e| e["key"] == "test"))
            .and_then(|environment| environment["keys"].as_array())
            .and_then(|keys| keys.iter().find(|key| key["kind"] == "server"))
            .and_then(|key| key["secret"].as_str())
            .unwrap_or_else(|| panic!("no server-side SDK key in {project}"))
            .to_owned()
    }

    /// Evaluations of variation 0 that config-api's usage API counts for `flag`.
    async fn counted(&self, flag: &str) -> u64 {
        let usage = self
            .api(
                Method::GET,
                &format!(
                    "/projects/{PROJECT}/environments/test/flags/{flag}/usage?granularity=day"
                ),
                None,
            )
            .await;
        usage["totals"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|total| total["variation"] == 0)
            .filter_map(|total| total["count"].as_u64())
            .sum()
    }

    /// Waits until the worker has processed every record the events topic holds and the
    /// counts are the expected ones; fails at the deadline, or as soon as everything was
    /// processed and the counts still differ.
    async fn wait_for_counts(
        &self,
        brokers: &str,
        topic: &str,
        worker_pool: &PgPool,
        expected: &BTreeMap<&str, u64>,
    ) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            // In this order: the topic, then what the worker committed, then the counts,
            // so the counts include at least what `processed` says.
            let in_topic = end_offsets(brokers, topic, PARTITIONS).await;
            let processed = processed_offsets(worker_pool, topic).await;
            let mut counted = BTreeMap::new();
            for flag in expected.keys() {
                counted.insert(*flag, self.counted(flag).await);
            }
            let all_processed = processed == in_topic;
            if all_processed && counted == *expected {
                return;
            }
            assert!(
                !all_processed && tokio::time::Instant::now() < deadline,
                "evaluations counted per flag: {counted:?}, expected {expected:?}; \
                 end offsets per partition in the topic: {in_topic:?}, processed by the \
                 worker: {processed:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Stops ingest first (it flushes its producer), then the worker, then config-api.
    async fn stop(self) {
        for service in [self.ingest, self.worker, self.config_api] {
            service.stop().await;
        }
    }
}

fn unix_ms() -> i64 {
    let elapsed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(elapsed.as_millis()).unwrap()
}

/// Per partition holding records, the offset after its last one, read from the start to
/// where the consumer reports end-of-partition. Not the high watermark: tansu 0.6 answers
/// that with the base offset of the last record batch plus one.
async fn end_offsets(brokers: &str, topic: &str, partitions: i32) -> BTreeMap<i32, i64> {
    let (brokers, topic) = (brokers.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            // Never joined or committed: the partitions are assigned, not subscribed.
            .set("group.id", "vexil-broker-pause-read-back")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .create()
            .expect("creating Kafka consumer");
        let mut assignment = TopicPartitionList::new();
        for partition in 0..partitions {
            assignment
                .add_partition_offset(&topic, partition, Offset::Beginning)
                .unwrap();
        }
        consumer.assign(&assignment).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut unfinished: Vec<i32> = (0..partitions).collect();
        let mut ends = BTreeMap::new();
        while !unfinished.is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "reading {topic} back took over 20 s; partitions not read to their end: \
                 {unfinished:?}"
            );
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(message)) => {
                    let end = ends.entry(message.partition()).or_insert(0);
                    *end = (message.offset() + 1).max(*end);
                }
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    unfinished.retain(|unfinished| *unfinished != partition);
                }
                Some(Err(error)) => panic!("failed to read {topic} back: {error}"),
                None => {}
            }
        }
        ends
    })
    .await
    .unwrap()
}

/// Per partition of `topic`, the offset the worker will read next: its stored offsets,
/// written in the transaction of the aggregates they cover.
async fn processed_offsets(worker_pool: &PgPool, topic: &str) -> BTreeMap<i32, i64> {
    sqlx::query_as::<_, (i32, i64)>(
        "SELECT partition, next_offset FROM analytics.consumer_offsets WHERE topic = $1",
    )
    .bind(topic)
    .fetch_all(worker_pool)
    .await
    .unwrap_or_else(|error| panic!("failed to read the worker's offsets: {error}"))
    .into_iter()
    .collect()
}

/// A tansu broker of this test's own on a free loopback port, keeping everything in
/// memory; killed when dropped.
struct OwnBroker {
    child: Child,
    address: String,
    directory: PathBuf,
}

impl OwnBroker {
    /// Starts `tansu` as `scripts/test-env` does (`VEXIL_TEST_TANSU`, else
    /// `$CARGO_HOME/bin/tansu`, else `~/.cargo/bin/tansu`).
    async fn start() -> OwnBroker {
        let binary = tansu_binary();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let url = format!("tcp://{address}");
        let directory = std::env::temp_dir().join(format!("vexil-pause-tansu-{port}"));
        std::fs::create_dir_all(&directory).unwrap();
        // tansu reads these variables and a `.env` in its working directory: neither may
        // leak in from the caller.
        let child = Command::new(&binary)
            .args(["broker", "--cluster-id", "vexil-broker-pause"])
            .args(["--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            .current_dir(&directory)
            .env_remove("CLUSTER_ID")
            .env_remove("LISTENER_URL")
            .env_remove("ADVERTISED_LISTENER_URL")
            .env_remove("STORAGE_ENGINE")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        let broker = OwnBroker {
            child,
            address,
            directory,
        };
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while tokio::net::TcpStream::connect(&broker.address)
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "tansu did not listen on {}",
                broker.address
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        broker
    }

    async fn create_topics(&self, topics: &[(&str, i32)]) {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &self.address)
            .create()
            .expect("creating Kafka admin client");
        let new_topics: Vec<NewTopic> = topics
            .iter()
            .map(|(name, partitions)| NewTopic::new(name, *partitions, TopicReplication::Fixed(1)))
            .collect();
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(20)));
        for result in admin.create_topics(&new_topics, &options).await.unwrap() {
            if let Err((name, code)) = result {
                panic!("tansu refused to create topic {name}: {code}");
            }
        }
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(status.success(), "kill {signal} {pid}");
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        // A stopped process must continue before it can handle the kill.
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

fn tansu_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("VEXIL_TEST_TANSU") {
        return PathBuf::from(path);
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    match cargo_home.map(|home| home.join("bin/tansu")) {
        Some(path) if path.is_file() => path,
        _ => panic!(
            "tansu is not installed: run the tests through scripts/test-env, which installs \
             it into $CARGO_HOME/bin, or set VEXIL_TEST_TANSU to its path"
        ),
    }
}
