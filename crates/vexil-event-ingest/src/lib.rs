//! Vexil's event ingest: the endpoint LaunchDarkly SDKs post analytics and diagnostic
//! events to. It authenticates the SDK's credential through config-api's
//! `Credentials.Resolve` (cached briefly), validates each event by kind, wraps it in a
//! `vexil.events.v1.EventEnvelope` and appends it to the event queue (`vexil_queue`: its
//! Kafka producer, or in `vexil up` the embedded queue, [`run_with_queue`]), answering 202
//! only once every record of the request is acknowledged.
//!
//! Never waits on PostgreSQL, never aggregates or stores events itself (that is
//! analytics-worker's job), never logs SDK keys or event contents.
//!
//! Start with `run` below, then `ingest.rs` (one request, from body to 202), `events/`
//! (what a valid event is), `envelope.rs` (the records made of them) and `sink.rs` (the
//! one producer they go to).

pub mod auth;
pub mod body;
pub mod config;
pub mod credentials;
pub mod envelope;
pub mod error;
pub mod events;
pub mod ingest;
pub mod metrics;
pub mod records;
pub mod routes;
pub mod sdk_request;
pub mod sink;
pub mod state;

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::state::AppState;

/// Runs event ingest on `listener` until `shutdown` fires: readiness turns off, in-flight
/// requests finish, the producer flushes what it still holds.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let state = AppState::connect(&config).await?;
    serve(state, config, listener, shutdown).await
}

/// As [`run`], appending events to `queue` instead of Kafka: `vexil up`'s embedded mode,
/// where the analytics worker in the same process reads the same queue. The standalone
/// binary always runs on Kafka.
pub async fn run_with_queue(
    config: Config,
    listener: TcpListener,
    queue: Arc<dyn vexil_queue::Producer>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let state = AppState::with_queue(&config, queue)?;
    serve(state, config, listener, shutdown).await
}

async fn serve(
    state: AppState,
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let app = routes::router(state.clone());
    let address = listener.local_addr()?;
    state.readiness.set_ready();
    tracing::info!(%address, topic = %config.kafka.topic, "event ingest listening");
    let readiness = state.readiness.clone();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.cancelled().await;
            readiness.set_not_ready();
        })
        .await
        .context("serving HTTP");
    state.close(config.http.shutdown_grace).await;
    served
}
