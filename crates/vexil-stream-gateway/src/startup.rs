//! Starting and stopping the gateway's background work: the writer of the persistent copy,
//! the FlagSync feed, and the initial load (config-api within `init_timeout`, otherwise the
//! persistent copy, stale rather than nothing, while the feed keeps trying).

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use vexil_service::cors::CorsPolicy;
use vexil_service::health::Readiness;

use crate::config::Config;
use crate::error::error_chain;
use crate::feed::Feed;
use crate::persistence::{self, load_all, PersistentCopy, Persister};
use crate::state::AppState;
use crate::store::Store;

/// The running background tasks and the state requests share.
pub struct Gateway {
    pub state: AppState,
    tasks: Vec<JoinHandle<()>>,
}

impl Gateway {
    /// Starts everything with the persistent copy `persistence.kind` names; returns at once
    /// (readiness turns on once data is loaded).
    pub fn start(config: &Config, shutdown: CancellationToken) -> anyhow::Result<Gateway> {
        let copy = persistence::open(config)
            .context("preparing the persistent copy (persistence.kind, redis.url)")?;
        Ok(Gateway::start_with_copy(config, copy, shutdown))
    }

    /// Starts everything with `copy` as the persistent copy, whatever `persistence.kind`
    /// says: for a process that embeds the gateway and owns its copy.
    pub fn start_with_copy(
        config: &Config,
        copy: Arc<dyn PersistentCopy>,
        shutdown: CancellationToken,
    ) -> Gateway {
        tracing::info!(persistent_copy = copy.name(), "starting the stream gateway");
        let store = Store::new(config.sse.buffer_events);
        let readiness = Readiness::default();
        let (persister, writer) = Persister::spawn(copy.clone(), store.clone(), shutdown.clone());
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
            copy,
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
            cors: Arc::new(CorsPolicy::new(&config.cors)),
            body_limit_bytes: config.http.body_limit_bytes,
            metrics: crate::metrics::GatewayMetrics::new(),
        };
        Gateway {
            state,
            tasks: vec![draining, feed, loader, writer],
        }
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
/// within `init_timeout`, otherwise from the persistent copy (retrying it until one of
/// them works).
async fn initial_load(
    store: Store,
    copy: Arc<dyn PersistentCopy>,
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
    let name = copy.name();
    tracing::warn!(
        init_timeout_ms = init_timeout.as_millis() as u64,
        persistent_copy = name,
        "config-api did not sync in time, loading the persistent copy"
    );
    let mut delay = std::time::Duration::from_millis(250);
    loop {
        if store.is_loaded() {
            return ready(&readiness, &shutdown, "config-api");
        }
        match load_all(copy.as_ref()).await {
            Ok(Some(environments)) => {
                let count = environments.len();
                for stored in environments {
                    store.restore(&stored.environment_id, stored.sequence, stored.contents);
                }
                store.mark_loaded();
                tracing::info!(
                    environments = count,
                    persistent_copy = name,
                    "serving the persistent copy until config-api is back"
                );
                return ready(&readiness, &shutdown, name);
            }
            Ok(None) => {
                tracing::warn!(
                    persistent_copy = name,
                    "the persistent copy holds no gateway data yet; waiting for config-api"
                );
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = synced.wait_for(|is_synced| *is_synced) => return ready(&readiness, &shutdown, "config-api"),
                }
            }
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), persistent_copy = name, "cannot load the persistent copy, will retry");
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
