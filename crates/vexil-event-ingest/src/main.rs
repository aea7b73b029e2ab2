//! The event ingest binary: configuration, telemetry, listener, run.

use anyhow::Context;
use tokio::net::TcpListener;
use vexil_event_ingest::config::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load().context("invalid configuration")?;
    let _telemetry = vexil_service::telemetry::init("event-ingest", &config.telemetry);
    let listener = TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("binding HTTP on {}", config.http.listen))?;
    vexil_event_ingest::run(config, listener, vexil_service::shutdown_on_sigterm()).await
}
