//! Turns the SDK events on Kafka (or `vexil up`'s embedded queue, [`serve_with_queue`])
//! into analytics: the only component that writes aggregates (PostgreSQL schema
//! `analytics`, or a SQLite file in `vexil up`'s embedded mode), and the one that answers
//! analytics queries (gRPC `vexil.analytics.v1.Analytics`).
//!
//! Owns the consumer group on `vexil.sdk-events.v1`, the dead-letter topic's producer, the
//! `analytics` schema and its offsets, and the pure aggregation and statistics. Never
//! reads config-api's tables, never evaluates flags, and never commits an offset before
//! the effect of the records before it is durable: each partition batch's aggregates and
//! its end offset are written in one transaction.
//!
//! Start with `run` below, then `consumer/mod.rs` (the loop), `store/mod.rs` (the
//! `AnalyticsStore` trait and its PostgreSQL and SQLite implementations) and
//! `aggregate/mod.rs` (the counting rules).

pub mod aggregate;
pub mod config;
pub mod consumer;
pub mod error;
pub mod events;
pub mod grpc;
pub mod metrics;
pub mod routes;
pub mod stats;
pub mod store;

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use vexil_proto::analytics::v1::analytics_server::AnalyticsServer;
use vexil_service::health::Readiness;

use crate::config::Config;
use crate::metrics::WorkerMetrics;
use crate::store::{AnalyticsStore, PostgresStore};

/// Runs the worker until `shutdown` fires (or the consumer fails): the consumer, the
/// de-duplication pruner, gRPC on `grpc`, `/health/*` and `/metrics` on `http`, on the
/// store `database.url` names (PostgreSQL or SQLite, see `store::connect`).
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
/// database); migrates it when `database.migrate` is set.
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

/// As [`run`], on a store that is open and migrated, which it leaves open.
/// `config.database` is not read.
pub async fn serve_with_store(
    config: Config,
    store: Arc<dyn AnalyticsStore>,
    http: TcpListener,
    grpc: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    serve_on(config, store, EventSource::Kafka, http, grpc, shutdown).await
}

/// As [`serve_with_store`], reading events from `consumer` (`vexil up`'s embedded queue)
/// instead of Kafka, and appending dead letters to `dead_letters` (the same queue). The
/// topics are `kafka.topic` and `kafka.dead_letter_topic`, the group `kafka.group_id`,
/// batches follow `kafka.batch_max_records` and `kafka.batch_linger`, the lag gauge
/// `kafka.statistics_interval`; the broker keys are not read.
pub async fn serve_with_queue(
    config: Config,
    store: Arc<dyn AnalyticsStore>,
    consumer: Arc<dyn vexil_queue::Consumer>,
    dead_letters: Arc<dyn vexil_queue::Producer>,
    http: TcpListener,
    grpc: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let source = EventSource::Queue {
        consumer,
        dead_letters,
    };
    serve_on(config, store, source, http, grpc, shutdown).await
}

/// Where the worker reads events.
enum EventSource {
    Kafka,
    Queue {
        consumer: Arc<dyn vexil_queue::Consumer>,
        dead_letters: Arc<dyn vexil_queue::Producer>,
    },
}

/// Runs the consumer on `source` beside the pruner and the gRPC and HTTP servers until
/// `shutdown` fires or the consumer returns (an error stops everything).
async fn serve_on(
    config: Config,
    store: Arc<dyn AnalyticsStore>,
    source: EventSource,
    http: TcpListener,
    grpc: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // Stops everything when the consumer fails, not only on the caller's signal.
    let stop = shutdown.child_token();
    let metrics = WorkerMetrics::new();
    let readiness = Readiness::default();

    let consumer = tokio::spawn({
        let (kafka, store, metrics, stop) = (
            config.kafka.clone(),
            store.clone(),
            metrics.clone(),
            stop.clone(),
        );
        async move {
            let result = match source {
                EventSource::Kafka => consumer::consume(&kafka, store, metrics, stop.clone()).await,
                EventSource::Queue {
                    consumer,
                    dead_letters,
                } => {
                    consumer::consume_queue(
                        &kafka,
                        store,
                        consumer,
                        dead_letters,
                        metrics,
                        stop.clone(),
                    )
                    .await
                }
            };
            stop.cancel();
            result
        }
    });
    let pruner = tokio::spawn(prune_seen_payloads(
        store.clone(),
        config.dedup_retention,
        config.prune_interval,
        stop.clone(),
    ));

    let service_auth = vexil_service::service_auth::ServiceAuth::new(
        "analytics-worker",
        config.service_token.as_deref(),
    );
    let analytics = AnalyticsServer::with_interceptor(
        grpc::AnalyticsService::new(store.clone()),
        move |request| service_auth.check(request),
    );
    let grpc_address = grpc.local_addr()?;
    let grpc_server = tonic::transport::Server::builder()
        .trace_fn(vexil_service::telemetry::grpc_server_span)
        .add_service(analytics)
        .serve_with_incoming_shutdown(TcpListenerStream::new(grpc), stop.clone().cancelled_owned());
    let http_address = http.local_addr()?;
    let http_server = axum::serve(
        http,
        routes::router(readiness.clone(), metrics.registry.clone()),
    )
    .with_graceful_shutdown(stop.clone().cancelled_owned());

    readiness.set_ready();
    tracing::info!(%http_address, %grpc_address, "analytics-worker listening");
    let (http_result, grpc_result) =
        tokio::join!(async { http_server.await.context("serving HTTP") }, async {
            grpc_server.await.context("serving gRPC")
        },);
    readiness.set_not_ready();
    let consumer_result = consumer.await.context("the consumer task panicked")?;
    pruner.await.context("the pruner task panicked")?;
    consumer_result.and(http_result).and(grpc_result)
}

/// Deletes expired de-duplication entries every `interval`.
async fn prune_seen_payloads(
    store: Arc<dyn AnalyticsStore>,
    retention: std::time::Duration,
    interval: std::time::Duration,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        match store.prune_seen_payloads(retention).await {
            Ok(deleted) => tracing::debug!(deleted, "pruned seen payloads"),
            Err(error) => tracing::warn!(
                error = format!("{:#}", anyhow::Error::new(error)),
                "pruning seen payloads failed"
            ),
        }
    }
}
