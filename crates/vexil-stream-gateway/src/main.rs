//! The stream gateway binary: configuration, telemetry, listener, run.

use anyhow::Context;
use tokio::net::TcpListener;
use vexil_stream_gateway::config::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load().context("invalid configuration")?;
    let _telemetry = vexil_service::telemetry::init("stream-gateway", &config.telemetry);
    let listener = TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("binding HTTP on {}", config.http.listen))?;
    vexil_stream_gateway::run(config, listener, vexil_service::shutdown_on_sigterm()).await
}
