//! The Kafka implementation's settings, with the defaults Vexil's services use.

use std::time::Duration;

/// Settings of a [`super::KafkaProducer`] and a [`super::KafkaConsumer`].
#[derive(Debug, Clone)]
pub struct KafkaOptions {
    /// `bootstrap.servers`: `host:port` pairs, comma separated.
    pub brokers: String,
    /// `client.id`, which brokers show in their logs and metrics (default `vexil-queue`).
    pub client_id: String,
    /// How long an append waits for every record to be acknowledged (default 10 s). Also
    /// librdkafka's `message.timeout.ms` and `request.timeout.ms`: a request to a stalled
    /// broker is abandoned (and, the producer being idempotent, safely retried) within the
    /// time an appender waits anyway, not librdkafka's 30 s, during which an idempotent
    /// producer holds back every later record.
    pub append_timeout: Duration,
    /// `linger.ms`: how long the producer waits to fill a batch (default 5 ms).
    pub linger: Duration,
    /// `compression.type`: `none`, `gzip`, `snappy` or `lz4` (default `lz4`; this build
    /// has no zstd).
    pub compression: String,
    /// `fetch.wait.max.ms`: how long a broker may hold a fetch that finds no new records
    /// (default 500 ms). A waiting reader learns of a new record within about this long.
    pub fetch_wait: Duration,
    /// `statistics.interval.ms` of a subscription's consumer: how often the watermarks
    /// [`crate::Subscription::lag`] answers from are renewed, from the consumer's latest
    /// fetch responses (default 1 s).
    pub lag_refresh: Duration,
    /// Replicas of each partition of a topic [`super::create_topic`] creates (default
    /// `None`: the brokers' `default.replication.factor`).
    pub replication_factor: Option<i32>,
    /// Extra librdkafka properties (security, SASL, ...), applied after the settings above,
    /// so they override them, except those the queue's guarantees rest on (see the
    /// README).
    pub properties: Vec<(String, String)>,
}

impl KafkaOptions {
    /// The defaults, for these brokers.
    pub fn new(brokers: impl Into<String>) -> KafkaOptions {
        KafkaOptions {
            brokers: brokers.into(),
            client_id: "vexil-queue".to_owned(),
            append_timeout: Duration::from_secs(10),
            linger: Duration::from_millis(5),
            compression: "lz4".to_owned(),
            fetch_wait: Duration::from_millis(500),
            lag_refresh: Duration::from_secs(1),
            replication_factor: None,
            properties: Vec::new(),
        }
    }
}
