//! analytics-worker's configuration (`vexil.toml`, `VEXIL_*` environment variables).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use vexil_proto::events::v1::{DEAD_LETTER_TOPIC, SDK_EVENTS_TOPIC};
use vexil_service::config::{duration_millis, duration_seconds};
pub use vexil_service::database::{DatabaseConfig, DatabaseConfigError};
use vexil_service::telemetry::TelemetryConfig;

/// Everything analytics-worker reads at startup. Defaults suit a local development stack.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub http: ListenConfig,
    pub grpc: ListenConfig,
    pub database: DatabaseConfig,
    pub kafka: KafkaConfig,
    /// The token config-api presents on gRPC calls (`VEXIL_SERVICE_TOKEN`). Without it
    /// every gRPC call is refused.
    #[serde(skip_serializing)]
    pub service_token: Option<String>,
    /// How long a (payload id, index) stays remembered for de-duplicating retried SDK
    /// payloads, in seconds.
    #[serde(with = "duration_seconds")]
    pub dedup_retention: Duration,
    /// How often expired de-duplication entries are deleted, in milliseconds.
    #[serde(with = "duration_millis")]
    pub prune_interval: Duration,
    pub telemetry: TelemetryConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenConfig {
    pub listen: SocketAddr,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// `bootstrap.servers`: comma-separated `host:port` (`VEXIL_KAFKA__BROKERS`).
    pub brokers: String,
    /// The topic of SDK events (`EventEnvelope` values).
    pub topic: String,
    /// Where records that cannot be processed go (`DeadLetter` values).
    pub dead_letter_topic: String,
    /// The consumer group; every worker of one deployment shares it.
    pub group_id: String,
    /// A batch is written once it has this many records...
    pub batch_max_records: usize,
    /// ...or this many milliseconds after its first record arrived.
    #[serde(with = "duration_millis")]
    pub batch_linger: Duration,
    /// How often the consumer-lag gauge is renewed, in milliseconds: on Kafka also how
    /// often librdkafka's statistics bring the partitions' high watermarks.
    #[serde(with = "duration_millis")]
    pub statistics_interval: Duration,
    /// How long dead letters may take to be acknowledged, in milliseconds.
    #[serde(with = "duration_millis")]
    pub produce_timeout: Duration,
    /// Further librdkafka properties (`security.protocol`, `sasl.*`, `fetch.wait.max.ms`,
    /// ...) for the consumer and the dead-letter producer, set after and over the ones
    /// above, except those `vexil_queue::kafka` keeps (see its README).
    pub properties: BTreeMap<String, String>,
}

/// The `client.id` brokers see the worker's connections under.
pub const CLIENT_ID: &str = "vexil-analytics-worker";

impl KafkaConfig {
    /// The group consumer's settings (`vexil_queue::kafka::KafkaConsumer`, which keeps
    /// auto-commit off and starts partitions at the store's offsets whatever `properties`
    /// say): the brokers, this service's client id, `statistics_interval` as the
    /// watermarks' refresh and the operator's extra properties.
    pub fn consumer_options(&self) -> vexil_queue::kafka::KafkaOptions {
        let mut options = vexil_queue::kafka::KafkaOptions::new(self.brokers.as_str());
        options.client_id = CLIENT_ID.to_owned();
        options.lag_refresh = self.statistics_interval;
        options.properties = self.properties.clone().into_iter().collect();
        options
    }

    /// The dead-letter producer's settings (`vexil_queue::kafka::KafkaProducer`, which
    /// keeps idempotence and `acks=all` whatever `properties` say): the brokers, this
    /// service's client id, `produce_timeout` and the operator's extra properties.
    pub fn dead_letter_options(&self) -> vexil_queue::kafka::KafkaOptions {
        let mut options = vexil_queue::kafka::KafkaOptions::new(self.brokers.as_str());
        options.client_id = CLIENT_ID.to_owned();
        options.append_timeout = self.produce_timeout;
        options.properties = self.properties.clone().into_iter().collect();
        options
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            http: ListenConfig {
                listen: SocketAddr::from(([0, 0, 0, 0], 8060)),
            },
            grpc: ListenConfig {
                listen: SocketAddr::from(([0, 0, 0, 0], 8061)),
            },
            database: DatabaseConfig::default(),
            kafka: KafkaConfig::default(),
            service_token: None,
            dedup_retention: Duration::from_secs(24 * 3600),
            prune_interval: Duration::from_secs(60),
            telemetry: TelemetryConfig::default(),
        }
    }
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "127.0.0.1:9092".into(),
            topic: SDK_EVENTS_TOPIC.into(),
            dead_letter_topic: DEAD_LETTER_TOPIC.into(),
            group_id: "vexil-analytics-worker".into(),
            batch_max_records: 5000,
            batch_linger: Duration::from_millis(200),
            statistics_interval: Duration::from_secs(5),
            produce_timeout: Duration::from_secs(10),
            properties: BTreeMap::new(),
        }
    }
}

/// A configuration value that parses but cannot work; the message starts with the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Database(#[from] DatabaseConfigError),
    #[error("kafka.{key} must not be empty")]
    Empty { key: &'static str },
    #[error("kafka.dead_letter_topic must differ from kafka.topic (`{0}`)")]
    DeadLetterTopic(String),
    #[error("kafka.batch_max_records must be at least 1")]
    BatchMaxRecords,
    #[error("kafka.produce_timeout must be at least 1 ms")]
    ProduceTimeout,
    #[error("kafka.statistics_interval must be at least 1 ms")]
    StatisticsInterval,
    #[error("prune_interval must be at least 1 ms")]
    PruneInterval,
    #[error("dedup_retention must be at least 1 s")]
    DedupRetention,
    #[error("service_token must not be empty (unset it instead)")]
    EmptyServiceToken,
}

impl Config {
    /// Defaults < `vexil.toml` < `VEXIL_*` variables, then [`Config::validate`].
    pub fn load() -> anyhow::Result<Config> {
        let config: Config = vexil_service::config::load()?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what the types alone cannot, naming the key. The database URL is not printed:
    /// it may hold a password.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.database.validate_for(crate::store::DATABASE_KINDS)?;
        let kafka = &self.kafka;
        for (key, value) in [
            ("brokers", &kafka.brokers),
            ("topic", &kafka.topic),
            ("dead_letter_topic", &kafka.dead_letter_topic),
            ("group_id", &kafka.group_id),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::Empty { key });
            }
        }
        if kafka.dead_letter_topic == kafka.topic {
            return Err(ConfigError::DeadLetterTopic(kafka.topic.clone()));
        }
        if kafka.batch_max_records == 0 {
            return Err(ConfigError::BatchMaxRecords);
        }
        // 0 would be librdkafka's "no timeout": a dead letter could hold the partition forever.
        if kafka.produce_timeout.is_zero() {
            return Err(ConfigError::ProduceTimeout);
        }
        // The lag gauge's timer cannot tick every 0 ms.
        if kafka.statistics_interval.is_zero() {
            return Err(ConfigError::StatisticsInterval);
        }
        // A zero period would panic in the pruning timer.
        if self.prune_interval.is_zero() {
            return Err(ConfigError::PruneInterval);
        }
        if self.dedup_retention.is_zero() {
            return Err(ConfigError::DedupRetention);
        }
        if self
            .service_token
            .as_deref()
            .is_some_and(|token| token.trim().is_empty())
        {
            return Err(ConfigError::EmptyServiceToken);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
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
            |config| config.database.url = "mysql://root:hunter2@db/vexil".into(),
            "database.url",
        );
        check(
            |config| config.database.url = "postgres://db:notaport/vexil".into(),
            "database.url",
        );
        check(
            |config| config.database.max_connections = 0,
            "database.max_connections",
        );
        check(|config| config.kafka.brokers = " ".into(), "kafka.brokers");
        check(
            |config| config.kafka.dead_letter_topic = config.kafka.topic.clone(),
            "kafka.dead_letter_topic",
        );
        check(
            |config| config.kafka.batch_max_records = 0,
            "kafka.batch_max_records",
        );
        check(
            |config| config.kafka.produce_timeout = Duration::ZERO,
            "kafka.produce_timeout",
        );
        check(
            |config| config.kafka.statistics_interval = Duration::ZERO,
            "kafka.statistics_interval",
        );
        check(
            |config| config.prune_interval = Duration::ZERO,
            "prune_interval",
        );
        check(
            |config| config.service_token = Some(String::new()),
            "service_token",
        );
    }
}
