//! Starting and stopping the gateway's background work: the Redis writer, the FlagSync
//! feed, and the initial load (config-api within `init_timeout`, otherwise the copy in
//! Redis, stale rather than nothing, while the feed keeps trying).

use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use vexil_service::cors::CorsPolicy;
use vexil_service::health::Readiness;

use crate::config::Config;
use crate::error::error_chain;
use crate::feed::Feed;
use crate::persistence::{load_all, Persister, RedisStore};
use crate::state::AppState;
use crate::store::Store;

/// The running background tasks and the state requests share.
pub struct Gateway {
    pub state: AppState,
    tasks: Vec<JoinHandle<()>>,
}

impl Gateway {
    /// Starts everything; returns at once (readiness turns on once data is loaded).
    pub fn start(config: &Config, shutdown: CancellationToken) -> anyhow::Result<Gateway> {
        let store = Store::new(config.sse.buffer_events);
        let readiness = Readiness::default();
        let redis =
            RedisStore::new(&config.redis).context("preparing the Redis connection (redis.url)")?;
        let (persister, writer) = Persister::spawn(redis.clone(), store.clone(), shutdown.clone());
        let (synced, synced_receiver) = watch::channel(false);
        let feed = Feed {
            config: config.config_api.clone(),
            service_token: config.service_token.clone(),
            store: store.clone(),
            persister: persister.clone(),
            synced,
        }
        .spawn(shutdown.clone());
        let loader = tokio::spawn(initial_load(
            store.clone(),
            redis,
            readiness.clone(),
            synced_receiver,
            config.config_api.init_timeout,
            shutdown.clone(),
        ));
        let draining = tokio::spawn({
            let (readiness, shutdown) = (readiness.clone(), shutdown.clone());
            async move {
                shutdown.cancelled().await;
                readiness.set_not_ready();
            }
        });
        let state = AppState {
            store,
            readiness,
            heartbeat_interval: config.sse.heartbeat_interval,
            shutdown,
            cors: std::sync::Arc::new(CorsPolicy::new(&config.cors)),
            body_limit_bytes: config.http.body_limit_bytes,
            metrics: crate::metrics::GatewayMetrics::new(),
        };
        Ok(Gateway {
            state,
            tasks: vec![draining, feed, loader, writer],
        })
    }

    /// Waits for the background tasks after `shutdown` fired (the writer flushes last).
    pub async fn close(self) {
        self.state.readiness.set_not_ready();
        for task in self.tasks {
            if let Err(error) = task.await {
                tracing::error!(error = %error, "background task failed");
            }
        }
    }
}

/// Turns readiness on once every environment is loaded: from config-api if it syncs
/// within `init_timeout`, otherwise from Redis (retrying Redis until one of them works).
async fn initial_load(
    store: Store,
    redis: RedisStore,
    readiness: Readiness,
    mut synced: watch::Receiver<bool>,
    init_timeout: std::time::Duration,
    shutdown: CancellationToken,
) {
    tokio::select! {
        _ = shutdown.cancelled() => return,
        _ = synced.wait_for(|is_synced| *is_synced) => return ready(&readiness, &shutdown, "config-api"),
        _ = tokio::time::sleep(init_timeout) => {}
    }
    tracing::warn!(
        init_timeout_ms = init_timeout.as_millis() as u64,
        "config-api did not sync in time, loading from Redis"
    );
    let mut delay = std::time::Duration::from_millis(250);
    loop {
        if store.is_loaded() {
            return ready(&readiness, &shutdown, "config-api");
        }
        match load_all(&redis).await {
            Ok(Some(environments)) => {
                let count = environments.len();
                for stored in environments {
                    store.restore(&stored.environment_id, stored.sequence, stored.contents);
                }
                store.mark_loaded();
                tracing::info!(
                    environments = count,
                    "serving the copy in Redis until config-api is back"
                );
                return ready(&readiness, &shutdown, "redis");
            }
            Ok(None) => {
                tracing::warn!("Redis holds no gateway data yet; waiting for config-api");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = synced.wait_for(|is_synced| *is_synced) => return ready(&readiness, &shutdown, "config-api"),
                }
            }
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "cannot load from Redis, will retry");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = synced.wait_for(|is_synced| *is_synced) => return ready(&readiness, &shutdown, "config-api"),
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(std::time::Duration::from_secs(5));
            }
        }
    }
}

fn ready(readiness: &Readiness, shutdown: &CancellationToken, source: &'static str) {
    if !shutdown.is_cancelled() {
        readiness.set_ready();
        tracing::info!(source, "ready");
    }
}
