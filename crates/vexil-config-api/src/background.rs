//! Periodic work every replica runs: applying due scheduled changes and pruning the
//! FlagSync outbox.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use crate::store::changes;

/// How often the outbox is pruned.
const PRUNE_INTERVAL: Duration = Duration::from_secs(600);

/// Starts the background tasks; they end when `shutdown` fires.
pub fn start(state: &AppState, shutdown: CancellationToken) {
    tokio::spawn(crate::scheduler::run(
        state.pool.clone(),
        state.sequencer.clone(),
        state.config.scheduler_interval,
        shutdown.clone(),
    ));
    let pool = state.pool.clone();
    let retention = state.config.change_retention;
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(PRUNE_INTERVAL);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = interval.tick() => {}
            }
            let cutoff = crate::store::now() - retention;
            let pruned = match pool.acquire().await {
                Ok(mut connection) => changes::prune(&mut connection, cutoff).await,
                Err(error) => Err(error.into()),
            };
            match pruned {
                Ok(count) if count > 0 => tracing::info!(count, "pruned old flag changes"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "cannot prune old flag changes"),
            }
        }
    });
}
