//! Event ingest's configuration (`vexil.toml`, `VEXIL_*` environment variables).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use vexil_queue::kafka::KafkaOptions;
use vexil_service::config::duration_millis;
use vexil_service::cors::CorsConfigError;
pub use vexil_service::cors::{CorsConfig, CorsEnvironment};
use vexil_service::telemetry::TelemetryConfig;

/// Everything event ingest reads at startup. Defaults suit a local development stack.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub http: HttpConfig,
    pub config_api: ConfigApiConfig,
    /// The token presented to config-api's gRPC services (`VEXIL_SERVICE_TOKEN`).
    #[serde(skip_serializing)]
    pub service_token: Option<String>,
    pub credentials: CredentialsConfig,
    pub kafka: KafkaConfig,
    /// CORS on the browser routes (spec 7.6), the stream gateway's keys and meaning (both
    /// use `vexil_service::cors`), so one Ingress host can serve both with one policy.
    pub cors: CorsConfig,
    pub telemetry: TelemetryConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    /// Largest accepted request body in bytes, applied to the body as received and again
    /// after gzip decompression; larger ones get 413.
    pub body_limit_bytes: usize,
    /// How long, after shutdown starts, in-flight requests and the producer's queue get to
    /// finish, in milliseconds.
    #[serde(with = "duration_millis")]
    pub shutdown_grace: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigApiConfig {
    /// config-api's gRPC endpoint, `http://host:port`.
    pub grpc_url: String,
    /// The longest a `Credentials.Resolve` call may take before the request gets 503, in
    /// milliseconds.
    #[serde(with = "duration_millis")]
    pub request_timeout: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CredentialsConfig {
    /// How long a resolved credential (known or unknown) is remembered, in milliseconds:
    /// the longest a revoked key keeps working, and a new key stays refused.
    #[serde(with = "duration_millis")]
    pub cache_ttl: Duration,
    /// The most credentials remembered at once; beyond it, new ones are resolved on every
    /// request until entries expire.
    pub cache_capacity: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// `bootstrap.servers`: comma-separated `host:port` (`VEXIL_KAFKA__BROKERS`).
    pub brokers: String,
    /// The topic SDK events are produced to.
    pub topic: String,
    /// The longest a request waits for Kafka to acknowledge all of its events before it
    /// gets 503, in milliseconds. Also the producer's `message.timeout.ms`.
    #[serde(with = "duration_millis")]
    pub produce_timeout: Duration,
    /// `linger.ms`: how long the producer waits to fill a batch, in milliseconds.
    #[serde(with = "duration_millis")]
    pub linger: Duration,
    /// `compression.type`: `none`, `gzip`, `snappy` or `lz4` (this build has no zstd).
    pub compression: String,
    /// Create the topic at startup when it does not exist (needs the broker to be up).
    pub create_topic: bool,
    /// Partitions of a topic created at startup.
    pub topic_partitions: i32,
    /// Replication factor of a topic created at startup; -1 takes the broker's default.
    pub topic_replication_factor: i32,
    /// Further librdkafka producer properties (`security.protocol`, `sasl.*`, ...), set
    /// after and over the ones above, but not over the producer's guarantees
    /// (`enable.idempotence`, `acks`, `partitioner`).
    pub properties: BTreeMap<String, String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 8050)),
            body_limit_bytes: 10 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl Default for ConfigApiConfig {
    fn default() -> Self {
        ConfigApiConfig {
            grpc_url: "http://127.0.0.1:8031".into(),
            request_timeout: Duration::from_secs(2),
        }
    }
}

impl Default for CredentialsConfig {
    fn default() -> Self {
        CredentialsConfig {
            cache_ttl: Duration::from_secs(5),
            cache_capacity: 100_000,
        }
    }
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "127.0.0.1:9092".into(),
            topic: vexil_proto::events::v1::SDK_EVENTS_TOPIC.into(),
            produce_timeout: Duration::from_secs(5),
            linger: Duration::from_millis(5),
            compression: "lz4".into(),
            create_topic: true,
            topic_partitions: 12,
            topic_replication_factor: -1,
            properties: BTreeMap::new(),
        }
    }
}

impl KafkaConfig {
    /// The settings of `vexil_queue::kafka`'s producer and admin client these keys make:
    /// `produce_timeout` is its append timeout; the producer's guarantees (idempotence,
    /// `acks=all`, the `consistent` partitioner) are the queue's, set over `properties`.
    pub fn queue_options(&self) -> KafkaOptions {
        let mut options = KafkaOptions::new(self.brokers.as_str());
        options.client_id = CLIENT_ID.to_owned();
        options.append_timeout = self.produce_timeout;
        options.linger = self.linger;
        options.compression = self.compression.clone();
        options.replication_factor =
            (self.topic_replication_factor != -1).then_some(self.topic_replication_factor);
        options.properties = self.properties.clone().into_iter().collect();
        options
    }
}

/// The `client.id` brokers see ingest's connections under.
const CLIENT_ID: &str = "vexil-event-ingest";

/// Compression codecs this build of librdkafka has (zlib and its built-in lz4 and snappy).
pub const COMPRESSION_CODECS: &[&str] = &["none", "gzip", "snappy", "lz4"];

/// A configuration value that parses but cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config_api.grpc_url `{url}` is not a valid http(s) URL")]
    GrpcUrl { url: String },
    #[error("http.body_limit_bytes must be at least 1")]
    BodyLimit,
    #[error("kafka.brokers must not be empty")]
    Brokers,
    #[error("kafka.topic must not be empty")]
    Topic,
    #[error("kafka.produce_timeout must be between 1 ms and 300000 ms (5 minutes)")]
    ProduceTimeout,
    #[error("kafka.compression `{0}` is not one of none, gzip, snappy, lz4")]
    Compression(String),
    #[error("kafka.topic_partitions must be at least 1")]
    TopicPartitions,
    #[error("kafka.topic_replication_factor must be -1 (broker default) or at least 1")]
    TopicReplicationFactor,
    #[error("config_api.request_timeout must be at least 1 ms")]
    RequestTimeout,
    #[error(transparent)]
    Cors(#[from] CorsConfigError),
}

impl Config {
    /// Defaults < `vexil.toml` < `VEXIL_*` variables, then [`Config::validate`].
    pub fn load() -> anyhow::Result<Config> {
        let config: Config = vexil_service::config::load()?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what the types alone cannot, naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = &self.config_api.grpc_url;
        if !vexil_service::config::is_grpc_url(url) {
            return Err(ConfigError::GrpcUrl { url: url.clone() });
        }
        if self.config_api.request_timeout.is_zero() {
            return Err(ConfigError::RequestTimeout);
        }
        if self.http.body_limit_bytes == 0 {
            return Err(ConfigError::BodyLimit);
        }
        let kafka = &self.kafka;
        if kafka.brokers.trim().is_empty() {
            return Err(ConfigError::Brokers);
        }
        if kafka.topic.trim().is_empty() {
            return Err(ConfigError::Topic);
        }
        if kafka.produce_timeout.is_zero() || kafka.produce_timeout > Duration::from_secs(300) {
            return Err(ConfigError::ProduceTimeout);
        }
        if !COMPRESSION_CODECS.contains(&kafka.compression.as_str()) {
            return Err(ConfigError::Compression(kafka.compression.clone()));
        }
        if kafka.topic_partitions < 1 {
            return Err(ConfigError::TopicPartitions);
        }
        if kafka.topic_replication_factor == 0 || kafka.topic_replication_factor < -1 {
            return Err(ConfigError::TopicReplicationFactor);
        }
        Ok(self.cors.validate()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config = Config::default();
        config.validate().unwrap();
        assert_eq!(config.http.listen.port(), 8050);
        assert_eq!(config.kafka.topic, "vexil.sdk-events.v1");
        assert_eq!(config.kafka.compression, "lz4");
    }

    #[test]
    fn kafka_keys_become_the_queue_options() {
        let mut config = Config::default();
        config.kafka.brokers = "kafka-1:9092,kafka-2:9092".into();
        config.kafka.produce_timeout = Duration::from_millis(1500);
        config.kafka.linger = Duration::from_millis(20);
        config.kafka.compression = "gzip".into();
        config.kafka.topic_replication_factor = 3;
        config.kafka.properties = [("security.protocol".into(), "ssl".into())].into();
        let options = config.kafka.queue_options();
        assert_eq!(options.brokers, "kafka-1:9092,kafka-2:9092");
        assert_eq!(options.client_id, "vexil-event-ingest");
        assert_eq!(options.append_timeout, Duration::from_millis(1500));
        assert_eq!(options.linger, Duration::from_millis(20));
        assert_eq!(options.compression, "gzip");
        assert_eq!(options.replication_factor, Some(3));
        assert_eq!(
            options.properties,
            [("security.protocol".to_owned(), "ssl".to_owned())]
        );
        let defaults = Config::default().kafka.queue_options();
        assert_eq!(defaults.replication_factor, None);
    }

    #[test]
    fn bad_values_name_their_key() {
        let check = |change: fn(&mut Config), key: &str| {
            let mut config = Config::default();
            change(&mut config);
            let message = config.validate().unwrap_err().to_string();
            assert!(message.starts_with(key), "{message}");
        };
        check(
            |config| config.config_api.grpc_url = "127.0.0.1:8031".into(),
            "config_api.grpc_url",
        );
        check(
            |config| config.kafka.compression = "zstd".into(),
            "kafka.compression",
        );
        check(
            |config| config.kafka.produce_timeout = Duration::ZERO,
            "kafka.produce_timeout",
        );
        check(
            |config| config.kafka.topic_partitions = 0,
            "kafka.topic_partitions",
        );
        check(
            |config| config.http.body_limit_bytes = 0,
            "http.body_limit_bytes",
        );
    }
}
