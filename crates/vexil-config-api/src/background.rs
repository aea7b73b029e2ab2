//! Periodic work every replica runs: applying due scheduled changes and pruning the
//! FlagSync outbox.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use crate::store::{ConfigStore, StoreResult};

/// How often the outbox is pruned.
const PRUNE_INTERVAL: Duration = Duration::from_secs(600);

/// Starts the background tasks; they end when `shutdown` fires.
pub fn start(state: &AppState, shutdown: CancellationToken) {
    tokio::spawn(crate::scheduler::run(
        state.store.clone(),
        state.config.scheduler_interval,
        shutdown.clone(),
    ));
    let store = state.store.clone();
    let retention = state.config.change_retention;
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(PRUNE_INTERVAL);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = interval.tick() => {}
            }
            let cutoff = crate::store::now() - retention;
            match prune(&store, cutoff).await {
                Ok(count) if count > 0 => tracing::info!(count, "pruned old flag changes"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "cannot prune old flag changes"),
            }
        }
    });
}

async fn prune(store: &Arc<dyn ConfigStore>, cutoff: time::OffsetDateTime) -> StoreResult<u64> {
    let mut session = store.write().await?;
    let count = session.prune_changes(cutoff).await?;
    session.commit().await?;
    Ok(count)
}
