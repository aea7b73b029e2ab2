//! The event ingest binary: configuration, telemetry, listener, run.

use anyhow::Context;
use tokio::net::TcpListener;
use vexil_event_ingest::config::Config;

/// Every request allocates its body, its records and hyper's and librdkafka's buffers;
/// the system allocator spent 18 % of ingest's CPU on them (BENCHMARKS.md, "Where ingest's
/// time goes"). Only this binary: `vexil up` and the libraries keep the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load().context("invalid configuration")?;
    let _telemetry = vexil_service::telemetry::init("event-ingest", &config.telemetry);
    let listener = TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("binding HTTP on {}", config.http.listen))?;
    vexil_event_ingest::run(config, listener, vexil_service::shutdown_on_sigterm()).await
}
