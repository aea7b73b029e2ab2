//! Vexil's write side: the only component that changes flag configuration.
//!
//! Owns projects, environments and their SDK credentials, flags and segments, the
//! hash-chained audit log, API tokens, approvals and scheduled changes, and the gRPC
//! services (`FlagSync`, `Credentials`) through which the other services learn about
//! changes. Keeps them behind the store traits (`store/`: PostgreSQL, schema `config`).
//! Never evaluates flags for SDKs and never reads another service's tables.
//!
//! Start with `run` below, then `routes/` for the REST API, `mutations/` for the rules
//! every write follows, and `store/` for the traits and the SQL.

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod background;
pub mod config;
pub mod error;
pub mod instructions;
pub mod mutations;
pub mod routes;
pub mod scheduler;
pub mod secrets;
pub mod state;
pub mod store;
pub mod sync;
pub mod views;

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use vexil_proto::config::v1::credentials_server::CredentialsServer;
use vexil_proto::config::v1::flag_sync_server::FlagSyncServer;
use vexil_service::health::Readiness;
use vexil_service::service_auth::ServiceAuth;

use crate::config::Config;
use crate::state::AppState;
use crate::store::{ConfigStore, PostgresStore};

/// Runs config-api on the given listeners until `shutdown` fires: REST on `http`, gRPC on
/// `grpc`, the change hub, the scheduler and the FlagSync outbox pruner, on the store
/// `database.url` names (migrated when `database.migrate`).
pub async fn run(
    config: Config,
    http: TcpListener,
    grpc: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let store = store::connect(&config.database).await?;
    let result = serve_with_store(config, store.clone(), http, grpc, shutdown).await;
    store.close().await;
    result
}

/// As [`run`], on an existing PostgreSQL pool, which it leaves open (tests share one per
/// database); migrates it when `database.migrate`.
pub async fn serve(
    config: Config,
    pool: sqlx::PgPool,
    http: TcpListener,
    grpc: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let store = PostgresStore::new(pool);
    if config.database.migrate {
        store
            .migrate()
            .await
            .context("applying database migrations")?;
    }
    serve_with_store(config, Arc::new(store), http, grpc, shutdown).await
}

/// As [`run`], on an open, migrated store, which it leaves open.
pub async fn serve_with_store(
    config: Config,
    store: Arc<dyn ConfigStore>,
    http: TcpListener,
    grpc: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    if let Some(token) = &config.admin_token {
        store_bootstrap_token(store.as_ref(), token)
            .await
            .context("storing the bootstrap admin token")?;
    }
    let hub = sync::ChangeHub::new();
    store
        .start(hub.clone(), shutdown.clone())
        .await
        .context("starting the store (numbering and publishing committed changes)")?;
    let readiness = Readiness::default();
    let state = AppState {
        store: store.clone(),
        config: Arc::new(config.clone()),
        readiness: readiness.clone(),
        hub: hub.clone(),
        metrics: vexil_service::metrics::Metrics::new("config-api"),
        analytics: analytics::AnalyticsClient::new(
            &config.analytics,
            config.service_token.as_deref(),
        )
        .context("configuring the analytics-worker client")?,
    };
    background::start(&state, shutdown.clone());

    let service_auth = ServiceAuth::new("config-api", config.service_token.as_deref());
    let flag_sync = FlagSyncServer::with_interceptor(
        sync::FlagSyncService::new(store.clone(), hub, shutdown.clone()),
        service_auth.clone(),
    );
    let credentials = CredentialsServer::with_interceptor(
        sync::credentials::CredentialsService::new(store),
        service_auth,
    );
    let grpc_address = grpc.local_addr()?;
    let grpc_server = tonic::transport::Server::builder()
        .trace_fn(vexil_service::telemetry::grpc_server_span)
        .add_service(flag_sync)
        .add_service(credentials)
        .serve_with_incoming_shutdown(
            TcpListenerStream::new(grpc),
            shutdown.clone().cancelled_owned(),
        );

    let http_address = http.local_addr()?;
    let app = routes::router(state);
    let http_server = axum::serve(
        http,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned());

    readiness.set_ready();
    tracing::info!(%http_address, %grpc_address, "config-api listening");
    let (http_result, grpc_result) =
        tokio::join!(async { http_server.await.context("serving HTTP") }, async {
            grpc_server.await.context("serving gRPC")
        },);
    readiness.set_not_ready();
    http_result.and(grpc_result)
}

/// Makes the configured bootstrap admin token exist, in its own transaction.
async fn store_bootstrap_token(store: &dyn ConfigStore, secret: &str) -> store::StoreResult<()> {
    let mut session = store.write().await?;
    session.ensure_bootstrap_token(secret).await?;
    session.commit().await
}
