//! analytics-worker's configuration (`vexil.toml`, `VEXIL_*` environment variables).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use vexil_proto::events::v1::{DEAD_LETTER_TOPIC, SDK_EVENTS_TOPIC};
use vexil_service::config::{duration_millis, duration_seconds};
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
pub struct DatabaseConfig {
    /// `postgres://user:password@host:port/database`; prefer `VEXIL_DATABASE__URL`.
    pub url: String,
    pub max_connections: u32,
    /// Apply pending migrations at startup.
    pub migrate: bool,
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
    /// How often librdkafka reports statistics (consumer lag), in milliseconds.
    #[serde(with = "duration_millis")]
    pub statistics_interval: Duration,
    /// How long dead letters may take to be acknowledged, in milliseconds.
    #[serde(with = "duration_millis")]
    pub produce_timeout: Duration,
    /// Further librdkafka properties (`security.protocol`, `sasl.*`, ...) for the consumer
    /// and the dead-letter producer, set after and over the ones above.
    pub properties: BTreeMap<String, String>,
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

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "postgres://postgres@127.0.0.1:5432/vexil".into(),
            max_connections: 10,
            migrate: true,
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

impl Config {
    /// Defaults < `vexil.toml` < `VEXIL_*` variables.
    pub fn load() -> Result<Config, Box<figment::Error>> {
        vexil_service::config::load()
    }
}
