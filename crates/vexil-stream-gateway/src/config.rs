//! The stream gateway's configuration (`vexil.toml`, `VEXIL_*` environment variables).

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use vexil_service::config::duration_millis;
use vexil_service::cors::CorsConfigError;
pub use vexil_service::cors::{CorsConfig, CorsEnvironment};
use vexil_service::telemetry::TelemetryConfig;

/// Everything the gateway reads at startup. Defaults suit a local development stack.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub http: HttpConfig,
    pub config_api: ConfigApiConfig,
    /// The token presented to config-api's gRPC services (`VEXIL_SERVICE_TOKEN`).
    #[serde(skip_serializing)]
    pub service_token: Option<String>,
    /// Where the gateway keeps its copy of every environment.
    pub persistence: PersistenceConfig,
    /// Read only when `persistence.kind` is `redis`.
    pub redis: RedisConfig,
    pub sse: SseConfig,
    /// CORS on the browser endpoints and OFREP (spec 7.6).
    pub cors: CorsConfig,
    pub telemetry: TelemetryConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    /// The largest request body (`REPORT` contexts, OFREP requests), in bytes; larger ones
    /// get 413.
    pub body_limit_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigApiConfig {
    /// config-api's gRPC endpoint, `http://host:port`.
    pub grpc_url: String,
    /// How long to wait at startup for config-api's `Synced` before serving the persistent
    /// copy instead, in milliseconds.
    #[serde(with = "duration_millis")]
    pub init_timeout: Duration,
    /// The longest pause between two attempts to reach config-api, in milliseconds.
    #[serde(with = "duration_millis")]
    pub max_reconnect_delay: Duration,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PersistenceConfig {
    /// `redis` (the default) or `memory`.
    pub kind: PersistenceKind,
}

/// Which persistent copy the gateway writes and, when config-api is late at startup,
/// serves from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersistenceKind {
    /// Redis at `redis.url`, in LaunchDarkly's layout: it outlives the gateway, so a
    /// gateway restarted while config-api is down still serves (stale) data, and
    /// LaunchDarkly SDKs in daemon mode can read it.
    #[default]
    Redis,
    /// The process's memory, for `vexil up`: config-api runs in the same process with a
    /// durable store and always answers first, so a copy that dies with the process
    /// loses nothing. Never connects to Redis.
    Memory,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]`; prefer `VEXIL_REDIS__URL` for passwords.
    pub url: String,
    /// Every key starts with `{prefix}:`; an environment's LaunchDarkly store lives under
    /// `{prefix}:{environmentId}`.
    pub prefix: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SseConfig {
    /// Time between heartbeat comments on an idle stream, in milliseconds (SDKs give up
    /// after 5 minutes of silence).
    #[serde(with = "duration_millis")]
    pub heartbeat_interval: Duration,
    /// How many changes a stream may fall behind before it is sent a fresh `put` instead.
    pub buffer_events: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 8040)),
            body_limit_bytes: 64 * 1024,
        }
    }
}

impl Default for ConfigApiConfig {
    fn default() -> Self {
        ConfigApiConfig {
            grpc_url: "http://127.0.0.1:8031".into(),
            init_timeout: Duration::from_secs(5),
            max_reconnect_delay: Duration::from_secs(30),
        }
    }
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            url: "redis://127.0.0.1:6379".into(),
            prefix: "vexil".into(),
        }
    }
}

impl Default for SseConfig {
    fn default() -> Self {
        SseConfig {
            heartbeat_interval: Duration::from_secs(60),
            buffer_events: 256,
        }
    }
}

/// A configuration value that parses but cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config_api.grpc_url `{url}` is not a valid http(s) URL")]
    GrpcUrl { url: String },
    #[error("redis.url is not a valid Redis URL")]
    RedisUrl(#[source] redis::RedisError),
    #[error("redis.prefix must not be empty")]
    EmptyPrefix,
    #[error("sse.heartbeat_interval must be between 1 ms and 180000 ms (3 minutes)")]
    HeartbeatInterval,
    #[error("sse.buffer_events must be at least 1")]
    BufferEvents,
    #[error("http.body_limit_bytes must be at least 1024")]
    BodyLimit,
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
        if self.persistence.kind == PersistenceKind::Redis {
            redis::Client::open(self.redis.url.as_str()).map_err(ConfigError::RedisUrl)?;
            if self.redis.prefix.is_empty() {
                return Err(ConfigError::EmptyPrefix);
            }
        }
        let heartbeat = self.sse.heartbeat_interval;
        if heartbeat.is_zero() || heartbeat > Duration::from_secs(180) {
            return Err(ConfigError::HeartbeatInterval);
        }
        if self.sse.buffer_events == 0 {
            return Err(ConfigError::BufferEvents);
        }
        if self.http.body_limit_bytes < 1024 {
            return Err(ConfigError::BodyLimit);
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
        assert_eq!(config.http.listen.port(), 8040);
        assert_eq!(config.redis.prefix, "vexil");
        assert_eq!(config.sse.heartbeat_interval, Duration::from_secs(60));
    }

    #[test]
    fn bad_values_name_their_key() {
        let mut config = Config::default();
        config.config_api.grpc_url = "127.0.0.1:8031".into();
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("config_api.grpc_url"));
        let mut config = Config::default();
        config.sse.heartbeat_interval = Duration::from_secs(300);
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("sse.heartbeat_interval"));
        let mut config = Config::default();
        config.cors.environments.push(CorsEnvironment {
            project: "shop".into(),
            environment: "production".into(),
            allowed_origins: vec!["https://shop.example.com/".into()],
        });
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "cors.environments (shop/production).allowed_origins: `https://shop.example.com/` \
             is not an origin like `https://example.com` (scheme, host and optional port, no path)"
        );
    }

    #[test]
    fn persistence_kind_reads_from_toml_and_defaults_to_redis() {
        assert_eq!(Config::default().persistence.kind, PersistenceKind::Redis);
        let config = from_toml("[persistence]\nkind = \"memory\"").unwrap();
        assert_eq!(config.persistence.kind, PersistenceKind::Memory);
        let error = from_toml("[persistence]\nkind = \"postgres\"").unwrap_err();
        assert!(error.contains("persistence.kind"), "{error}");
        assert!(
            error.contains("redis") && error.contains("memory"),
            "{error}"
        );
    }

    #[test]
    fn memory_persistence_does_not_read_redis_keys() {
        let mut config = Config::default();
        config.redis.url = "nonsense".into();
        config.redis.prefix = String::new();
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("redis.url"));
        config.persistence.kind = PersistenceKind::Memory;
        config.validate().unwrap();
    }

    /// The configuration in `toml`, or figment's message (which names the key).
    fn from_toml(toml: &str) -> Result<Config, String> {
        use figment::providers::Format as _;
        figment::Figment::new()
            .merge(figment::providers::Toml::string(toml))
            .extract()
            .map_err(|error| error.to_string())
    }

    #[test]
    fn cors_environments_read_from_toml() {
        use figment::providers::Format as _;
        let config: Config = figment::Figment::new()
            .merge(figment::providers::Toml::string(
                r#"
                [cors]
                allowed_origins = ["https://app.example.com"]
                [[cors.environments]]
                project = "shop"
                environment = "production"
                allowed_origins = ["https://shop.example.com", "http://localhost:3000"]
                "#,
            ))
            .extract()
            .unwrap();
        config.validate().unwrap();
        assert_eq!(config.cors.allowed_origins, ["https://app.example.com"]);
        assert_eq!(config.cors.environments[0].allowed_origins.len(), 2);
    }
}
