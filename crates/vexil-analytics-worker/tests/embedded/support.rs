//! The worker on an embedded queue and a SQLite file in one temporary directory, records
//! made as event-ingest makes them, and the worker's usage query over gRPC.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost::Message;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use vexil_analytics_worker::config::{Config, DatabaseConfig};
use vexil_analytics_worker::store::{connect, AnalyticsStore};
use vexil_proto::analytics::v1::analytics_client::AnalyticsClient;
use vexil_proto::analytics::v1::{FlagUsageRequest, Granularity};
use vexil_proto::events::v1::{EventEnvelope, EventSource, PAYLOAD_ID_HEADER};
use vexil_queue::embedded::{EmbeddedOptions, EmbeddedQueue};
use vexil_queue::{Position, Producer, Record};

pub const ENVIRONMENT: &str = "6f1c1f5e-0000-4000-8000-000000000003";
pub const FLAG: &str = "checkout";
const SERVICE_TOKEN: &str = "test-service-token";

pub fn now_ms() -> i64 {
    let elapsed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(elapsed.as_millis()).unwrap()
}

pub fn config() -> Config {
    let mut config = Config::default();
    config.kafka.batch_linger = Duration::from_millis(50);
    config.kafka.batch_max_records = 20;
    config.service_token = Some(SERVICE_TOKEN.into());
    config
}

/// A summary of `count` evaluations of [`FLAG`] as ingest queues it: the envelope, keyed
/// `{environment}#{payload id}`, with the payload id header. `generated` marks a payload
/// id ingest made up (the SDK sent none), which the worker does not de-duplicate by.
pub fn summary(payload_id: &str, count: u64, generated: bool, now: i64) -> Record {
    let json = format!(
        r#"{{"kind":"summary","startDate":{},"endDate":{now},"features":{{"{FLAG}":{{"default":false,"counters":[{{"variation":1,"version":2,"value":true,"count":{count}}}]}}}}}}"#,
        now - 1000
    );
    let value = EventEnvelope {
        environment_id: ENVIRONMENT.to_owned(),
        project_key: Some("shop".into()),
        environment_key: Some("test".into()),
        received_at_unix_ms: now,
        payload_id: payload_id.to_owned(),
        payload_id_generated: generated,
        source: EventSource::Server as i32,
        user_agent: "GoClient/7.0.0".into(),
        kind: "summary".into(),
        event_schema: 4,
        event_json: json.into_bytes(),
        ..EventEnvelope::default()
    }
    .encode_to_vec();
    Record::new(format!("{ENVIRONMENT}#{payload_id}"), value, now)
        .with_header(PAYLOAD_ID_HEADER, payload_id.to_owned())
}

pub async fn open_queue(dir: &Path) -> EmbeddedQueue {
    EmbeddedQueue::open(dir.join("queue"), EmbeddedOptions::default())
        .await
        .unwrap()
}

pub async fn open_store(dir: &Path) -> Arc<dyn AnalyticsStore> {
    let database = DatabaseConfig {
        url: format!("sqlite://{}", dir.join("analytics.db").display()),
        ..DatabaseConfig::default()
    };
    connect(&database).await.unwrap()
}

/// Appends `records`, returning where each landed.
pub async fn append(queue: &EmbeddedQueue, topic: &str, records: &[Record]) -> Vec<Position> {
    queue.append(topic, records).await.unwrap()
}

/// How many of `positions` landed in each partition, keyed as the lag gauge labels them.
pub fn records_per_partition(positions: &[Position]) -> BTreeMap<i32, i64> {
    let mut counts = BTreeMap::new();
    for position in positions {
        *counts
            .entry(i32::try_from(position.partition).unwrap())
            .or_default() += 1;
    }
    counts
}

/// The worker running in this process on `queue` and `store`.
pub struct RunningWorker {
    pub grpc: SocketAddr,
    /// `/health/*` and `/metrics`.
    pub http: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningWorker {
    pub async fn start(
        config: Config,
        queue: &EmbeddedQueue,
        store: Arc<dyn AnalyticsStore>,
    ) -> RunningWorker {
        let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let grpc = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let grpc_address = grpc.local_addr().unwrap();
        let http_address = http.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(vexil_analytics_worker::serve_with_queue(
            config,
            store,
            Arc::new(queue.clone()),
            Arc::new(queue.clone()),
            http,
            grpc,
            shutdown.clone(),
        ));
        RunningWorker {
            grpc: grpc_address,
            http: http_address,
            shutdown,
            task,
        }
    }

    /// Stops the worker (it writes what it has read) and waits for it.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }
}

/// The evaluations of [`FLAG`] within an hour of `now`, as the worker's usage query
/// answers.
pub async fn evaluations(grpc: SocketAddr, now: i64) -> u64 {
    let channel = Channel::from_shared(format!("http://{grpc}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let bearer = vexil_service::service_auth::BearerToken::new(Some(SERVICE_TOKEN)).unwrap();
    let mut client = AnalyticsClient::with_interceptor(channel, bearer);
    let usage = client
        .flag_usage(FlagUsageRequest {
            environment_id: ENVIRONMENT.into(),
            flag_key: FLAG.into(),
            from_unix_ms: now - 3_600_000,
            to_unix_ms: now + 3_600_000,
            granularity: Granularity::Hour as i32,
        })
        .await
        .unwrap()
        .into_inner();
    usage.totals.iter().map(|total| total.count).sum()
}

/// The worker's `vexil_analytics_worker_consumer_lag_records` series, by partition, as
/// `/metrics` serves them.
pub async fn consumer_lag(http: SocketAddr) -> BTreeMap<i32, i64> {
    let text = reqwest::get(format!("http://{http}/metrics"))
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix("vexil_analytics_worker_consumer_lag_records{"))
        .map(|series| {
            let (labels, value) = series.split_once("} ").unwrap();
            let partition = labels
                .split(',')
                .find_map(|label| label.strip_prefix("partition=\""))
                .and_then(|quoted| quoted.strip_suffix('"'))
                .unwrap_or_else(|| panic!("a lag series without a partition: {series}"));
            (partition.parse().unwrap(), value.trim().parse().unwrap())
        })
        .collect()
}

/// The records of `topic` the worker has committed: the sum of its stored offsets, as
/// offsets start at 0 in every partition.
pub async fn committed(store: &dyn AnalyticsStore, topic: &str) -> i64 {
    store.load_offsets(topic).await.unwrap().values().sum()
}

/// Polls `check` until it holds, failing after `deadline`.
pub async fn eventually<F, Fut>(what: &str, deadline: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = tokio::time::Instant::now() + deadline;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < until,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
