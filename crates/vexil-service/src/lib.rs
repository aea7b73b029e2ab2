//! Plumbing every Vexil service shares.
//!
//! Owns configuration loading (figment: defaults < TOML file < `VEXIL_` environment
//! variables), telemetry set-up, the shutdown signal, the `/health/*` routes and
//! Prometheus metrics (`/metrics`), and the rules several services apply alike: CORS on
//! browser routes (`cors`), what an HTTP response logs (`http_trace`), the SDK key in `Authorization` (`sdk_auth`), the service token
//! on gRPC calls (`service_auth`), duration keys in configuration (`config`), JSON error
//! responses (`error`) and, with feature `postgres`, the `[database]` section
//! (`database`) and where sqlx keeps migration history (`migrations`).
//! Never knows about flags, events or any other Vexil crate.
//!
//! Start with `config::load` and `health::router`.

pub mod config;
pub mod cors;
#[cfg(feature = "postgres")]
pub mod database;
pub mod error;
pub mod health;
pub mod http_trace;
pub mod metrics;
#[cfg(feature = "postgres")]
pub mod migrations;
pub mod sdk_auth;
pub mod service_auth;
pub mod shutdown;
pub mod telemetry;

pub use shutdown::shutdown_on_sigterm;
