//! Sets up a service's telemetry: `tracing` to stderr, filtered by `RUST_LOG` (default
//! `info`), as JSON lines when the configuration asks for it, and, only when
//! `telemetry.otlp_endpoint` is set, its spans to an OpenTelemetry collector over OTLP/HTTP.
//!
//! `propagation` carries W3C trace context over HTTP, gRPC and Kafka headers; `spans` opens
//! the server spans that continue it. Operator guide: `docs/telemetry.md`.

mod config;
mod export;
pub mod propagation;
mod spans;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::{Deserialize, Serialize};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

pub use config::{InvalidOtlpEndpoint, InvalidSampleRatio, OtlpEndpoint, SampleRatio};
pub use propagation::{add_remote_link, current_traceparent, set_remote_parent, TRACEPARENT};
pub use spans::grpc_server_span;
pub(crate) use spans::{http_server_span, record_http_status};

/// Telemetry settings shared by every service (`[telemetry]` in `vexil.toml`,
/// `VEXIL_TELEMETRY__*` in the environment).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Log JSON lines instead of human-readable text.
    pub json_logs: bool,
    /// The collector's OTLP/HTTP base URL; without it (the default) no span leaves the
    /// process. When absent, `OTEL_EXPORTER_OTLP_ENDPOINT` stands in (`config::figment`).
    pub otlp_endpoint: Option<OtlpEndpoint>,
    /// The exported `service.name`; `vexil-<service>` (`vexil-config-api`) by default.
    /// When absent, `OTEL_SERVICE_NAME` stands in.
    pub service_name: Option<String>,
    /// The share of new traces exported; continued traces follow their caller.
    pub sample_ratio: SampleRatio,
}

/// The instrumentation scope on every exported span.
const TRACER_NAME: &str = "vexil";

/// Whether this process installed a subscriber (the first [`init`] does).
static INSTALLED: Mutex<bool> = Mutex::new(false);
/// Whether spans are exported now: server spans are opened only then.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Keeps telemetry alive; dropping it at the end of `main` flushes the spans still
/// buffered to the collector and stops the exporter.
#[must_use = "dropping the guard stops telemetry"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Exports the spans ended so far and waits for the collector's answer (the exporter
    /// does it every few seconds on its own; tests and shutdown want it now). Blocks.
    pub fn flush(&self) {
        if let Some(provider) = &self.provider {
            if let Err(error) = provider.force_flush() {
                tracing::warn!(error = %error, "flushing spans to the OTLP collector failed");
            }
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            EXPORTING.store(false, Ordering::Release);
            if let Err(error) = provider.shutdown() {
                tracing::warn!(error = %error, "shutting down the OTLP exporter failed");
            }
        }
    }
}

/// Installs the global subscriber and, when configured, the OTLP exporter. Calling it twice
/// is harmless: the second call keeps the first subscriber and exporter and returns a guard
/// that owns nothing, which lets tests start several services in one process.
///
/// The endpoint was checked when the configuration loaded; should the exporter still fail
/// to build, the service runs without it and says so.
pub fn init(service: &'static str, config: &TelemetryConfig) -> TelemetryGuard {
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    if *installed {
        return TelemetryGuard { provider: None };
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = if config.json_logs {
        fmt.json().boxed()
    } else {
        fmt.boxed()
    };
    let export = config
        .otlp_endpoint
        .as_ref()
        .map(|endpoint| export::tracer_provider(service, config, endpoint));
    let provider = export
        .as_ref()
        .and_then(|result| result.as_ref().ok())
        .cloned();
    let otel = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(TRACER_NAME))
            .with_tracked_inactivity(false)
    });
    if tracing_subscriber::registry()
        .with(otel)
        .with(fmt)
        .with(filter)
        .try_init()
        .is_err()
    {
        // Someone else's subscriber is installed: ours, exporter included, is not wanted.
        if let Some(provider) = provider {
            let _ = provider.shutdown();
        }
        return TelemetryGuard { provider: None };
    }
    *installed = true;
    EXPORTING.store(provider.is_some(), Ordering::Release);
    match (&export, &config.otlp_endpoint) {
        (Some(Err(error)), _) => {
            tracing::error!(service, error = %error, "OTLP exporter failed to start; spans are not exported");
        }
        (Some(Ok(_)), Some(endpoint)) => {
            tracing::info!(service, otlp_endpoint = %endpoint, "telemetry initialised, exporting spans");
        }
        _ => tracing::info!(service, "telemetry initialised"),
    }
    TelemetryGuard { provider }
}

/// Whether this process exports spans now (an [`init`] with an endpoint, guard alive).
pub fn is_exporting() -> bool {
    EXPORTING.load(Ordering::Acquire)
}
