//! config-api's configuration (`vexil.toml`, `VEXIL_*` environment variables).

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use vexil_service::config::{duration_millis, duration_seconds};
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://user:password@host:port/database`; prefer setting it through
    /// `VEXIL_DATABASE__URL` so the password stays out of files.
    pub url: String,
    pub max_connections: u32,
    /// Apply pending migrations at startup.
    pub migrate: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            http: HttpConfig::default(),
            grpc: GrpcConfig::default(),
            database: DatabaseConfig::default(),
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

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "postgres://postgres@127.0.0.1:5432/vexil".into(),
            max_connections: 20,
            migrate: true,
        }
    }
}

impl Config {
    /// Defaults < `vexil.toml` < `VEXIL_*` variables.
    pub fn load() -> Result<Config, Box<figment::Error>> {
        vexil_service::config::load()
    }
}
