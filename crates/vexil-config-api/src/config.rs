//! config-api's configuration (`vexil.toml`, `VEXIL_*` environment variables).

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use vexil_service::config::{duration_millis, duration_seconds};
pub use vexil_service::database::{DatabaseConfig, DatabaseConfigError};
use vexil_service::telemetry::TelemetryConfig;

/// Everything config-api reads at startup. Defaults suit a local development stack.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub http: HttpConfig,
    pub grpc: GrpcConfig,
    pub database: DatabaseConfig,
    /// The first admin API token (`VEXIL_ADMIN_TOKEN`). When set, a token with this
    /// secret and the admin role exists; changing it revokes the previous one.
    #[serde(skip_serializing)]
    pub admin_token: Option<String>,
    /// The token other services present on gRPC calls (`VEXIL_SERVICE_TOKEN`). Without
    /// it every gRPC call is refused.
    #[serde(skip_serializing)]
    pub service_token: Option<String>,
    /// How long FlagSync keeps committed changes for watchers that resume.
    #[serde(with = "duration_seconds")]
    pub change_retention: Duration,
    /// How often due scheduled changes are looked for, in milliseconds.
    #[serde(with = "duration_millis")]
    pub scheduler_interval: Duration,
    pub analytics: AnalyticsConfig,
    pub telemetry: TelemetryConfig,
}

/// Where analytics-worker's gRPC `Analytics` service answers the usage, contexts, stale
/// flags and experiment endpoints. config-api starts without it; those endpoints answer 503
/// while it is unreachable.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyticsConfig {
    pub grpc_url: String,
    /// How long one query may take, in milliseconds.
    #[serde(with = "duration_millis")]
    pub timeout: Duration,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        AnalyticsConfig {
            grpc_url: "http://127.0.0.1:8061".into(),
            timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    /// Largest accepted request body, in bytes; larger ones get 413.
    pub body_limit_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcConfig {
    pub listen: SocketAddr,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            http: HttpConfig::default(),
            grpc: GrpcConfig::default(),
            // One pool serves REST, gRPC and the background tasks.
            database: DatabaseConfig {
                max_connections: 20,
                ..DatabaseConfig::default()
            },
            admin_token: None,
            service_token: None,
            change_retention: Duration::from_secs(7 * 24 * 3600),
            scheduler_interval: Duration::from_secs(1),
            analytics: AnalyticsConfig::default(),
            telemetry: TelemetryConfig::default(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 8030)),
            body_limit_bytes: 1024 * 1024,
        }
    }
}

impl Default for GrpcConfig {
    fn default() -> Self {
        GrpcConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 8031)),
        }
    }
}

/// A configuration value that parses but cannot work; the message starts with the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Database(#[from] DatabaseConfigError),
    #[error("analytics.grpc_url `{url}` is not a valid http(s) URL")]
    AnalyticsGrpcUrl { url: String },
    #[error("analytics.timeout must be at least 1 ms")]
    AnalyticsTimeout,
    #[error("scheduler_interval must be at least 1 ms")]
    SchedulerInterval,
    #[error("change_retention must be at least 1 s")]
    ChangeRetention,
    #[error("http.body_limit_bytes must be at least 1024")]
    BodyLimit,
    #[error("{key} must not be empty (unset it instead)")]
    EmptyToken { key: &'static str },
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
        let url = &self.analytics.grpc_url;
        if !vexil_service::config::is_grpc_url(url) {
            return Err(ConfigError::AnalyticsGrpcUrl { url: url.clone() });
        }
        if self.analytics.timeout.is_zero() {
            return Err(ConfigError::AnalyticsTimeout);
        }
        if self.scheduler_interval.is_zero() {
            return Err(ConfigError::SchedulerInterval);
        }
        if self.change_retention.is_zero() {
            return Err(ConfigError::ChangeRetention);
        }
        if self.http.body_limit_bytes < 1024 {
            return Err(ConfigError::BodyLimit);
        }
        for (key, token) in [
            ("admin_token", &self.admin_token),
            ("service_token", &self.service_token),
        ] {
            if token
                .as_deref()
                .is_some_and(|token| token.trim().is_empty())
            {
                return Err(ConfigError::EmptyToken { key });
            }
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
            |config| config.database.max_connections = 0,
            "database.max_connections",
        );
        check(
            |config| config.analytics.grpc_url = "analytics-worker:8061".into(),
            "analytics.grpc_url",
        );
        check(
            |config| config.analytics.timeout = Duration::ZERO,
            "analytics.timeout",
        );
        check(
            |config| config.scheduler_interval = Duration::ZERO,
            "scheduler_interval",
        );
        check(
            |config| config.http.body_limit_bytes = 10,
            "http.body_limit_bytes",
        );
        check(
            |config| config.service_token = Some(" ".into()),
            "service_token",
        );
    }

    #[test]
    fn a_bad_database_url_does_not_show_its_password() {
        let mut config = Config::default();
        config.database.url = "mysql://root:hunter2@db/vexil".into();
        let message = config.validate().unwrap_err().to_string();
        assert!(!message.contains("hunter2"), "{message}");
        config.database.url = "postgres://root:hunter2@db:notaport/vexil".into();
        let error = config.validate().unwrap_err();
        let chain = format!("{:#}", anyhow::Error::from(error));
        assert!(chain.starts_with("database.url"), "{chain}");
        assert!(!chain.contains("hunter2"), "{chain}");
    }
}
