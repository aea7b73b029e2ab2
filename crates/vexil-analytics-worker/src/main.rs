//! The analytics-worker binary: configuration, telemetry, listeners, run.

use anyhow::Context;
use tokio::net::TcpListener;
use vexil_analytics_worker::config::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load().context("invalid configuration")?;
    let _telemetry = vexil_service::telemetry::init("analytics-worker", &config.telemetry);
    let http = TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("binding HTTP on {}", config.http.listen))?;
    let grpc = TcpListener::bind(config.grpc.listen)
        .await
        .with_context(|| format!("binding gRPC on {}", config.grpc.listen))?;
    vexil_analytics_worker::run(config, http, grpc, vexil_service::shutdown_on_sigterm()).await
}
