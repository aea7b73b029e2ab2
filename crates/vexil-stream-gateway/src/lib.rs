//! Vexil's stream gateway: the read side SDKs talk to. It keeps every environment's
//! flags and segments in memory (fed by config-api's `FlagSync.Watch`, copied to a
//! `persistence::PersistentCopy`: Redis in LaunchDarkly's store layout, or memory inside
//! `vexil up`) and serves LaunchDarkly server-side streaming and polling, client-side and
//! mobile evaluation, and OFREP.
//!
//! Never queries PostgreSQL and never writes flag configuration; never holds an SDK key,
//! only SHA-256 hashes of them. Serves stale data from the persistent copy rather than
//! nothing when config-api is unreachable at startup.
//!
//! Start with `run` below, then `store/` (the in-memory data every request reads),
//! `feed/` (how it is kept current), `streaming.rs` (one SSE connection), `routes/`, and
//! `server/` (accepting connections: hyper, or the lean writer for SSE streams).

pub mod config;
pub mod error;
pub mod evaluation;
pub mod fanout;
pub mod feed;
pub mod metrics;
pub mod persistence;
pub mod routes;
pub mod server;
pub mod startup;
pub mod state;
pub mod store;
pub mod streaming;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::startup::Gateway;

/// Runs the gateway on `listener` until `shutdown` fires: open streams end, in-flight
/// requests finish, pending writes to the persistent copy are flushed.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let gateway = Gateway::start(&config, shutdown.clone())?;
    let app = routes::router(gateway.state.clone());
    let address = listener.local_addr()?;
    tracing::info!(%address, "stream gateway listening");
    server::serve(listener, app, shutdown.clone()).await;
    gateway.close().await;
    Ok(())
}
