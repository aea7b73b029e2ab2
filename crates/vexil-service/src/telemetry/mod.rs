//! Sets up logging for a service: `tracing` to stderr, filtered by `RUST_LOG` (default
//! `info`), as JSON lines when the configuration asks for it.

use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;

/// Telemetry settings shared by every service (`[telemetry]` in `vexil.toml`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TelemetryConfig {
    /// Log JSON lines instead of human-readable text.
    pub json_logs: bool,
}

/// Keeps telemetry alive; dropping it at the end of `main` flushes what is buffered.
#[must_use = "dropping the guard stops telemetry"]
pub struct TelemetryGuard(());

/// Installs the global subscriber. Calling it twice is harmless (the second call keeps
/// the first subscriber), which lets tests start several services in one process.
pub fn init(service: &'static str, config: &TelemetryConfig) -> TelemetryGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = if config.json_logs {
        builder.json().try_init().is_ok()
    } else {
        builder.try_init().is_ok()
    };
    if installed {
        tracing::info!(service, "telemetry initialised");
    }
    TelemetryGuard(())
}
