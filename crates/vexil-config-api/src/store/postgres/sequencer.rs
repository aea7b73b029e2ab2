//! Runs the sequencing batches (`sequencing.rs`) of this replica. A write that has
//! committed calls `flush` and waits until a batch that started after its commit has
//! finished; writes that arrive together share one batch, the way PostgreSQL's group
//! commit shares one WAL flush. A periodic sweep numbers what a crashed replica queued
//! but never flushed.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::sequencing;

/// How often queued rows nobody flushed are picked up.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// How long a failed batch waits before the next try.
const RETRY_DELAY: Duration = Duration::from_millis(200);

#[derive(Clone)]
pub struct Sequencer {
    requests: mpsc::UnboundedSender<oneshot::Sender<()>>,
}

impl Sequencer {
    /// Starts the batch task; it ends when `shutdown` fires.
    pub fn start(pool: PgPool, shutdown: CancellationToken) -> Sequencer {
        let (requests, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, receiver, shutdown));
        Sequencer { requests }
    }

    /// Returns once everything this replica committed before the call is numbered and
    /// chained, or once a batch has failed (the sweep retries it; the write itself is
    /// committed either way).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.requests.send(done).is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run(
    pool: PgPool,
    mut requests: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    shutdown: CancellationToken,
) {
    let mut sweep = tokio::time::interval(SWEEP_INTERVAL);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut waiting = Vec::new();
        tokio::select! {
            _ = shutdown.cancelled() => return,
            request = requests.recv() => match request {
                Some(request) => waiting.push(request),
                None => return,
            },
            _ = sweep.tick() => {}
        }
        while let Ok(request) = requests.try_recv() {
            waiting.push(request);
        }
        drain(&pool).await;
        for done in waiting {
            let _ = done.send(());
        }
    }
}

/// Runs batches until the queues are empty or a batch fails.
pub(super) async fn drain(pool: &PgPool) {
    loop {
        match sequencing::run_batch(pool).await {
            Ok(moved) if moved.is_full() => continue,
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(%error, "cannot number queued changes and audit entries, retrying");
                tokio::time::sleep(RETRY_DELAY).await;
                return;
            }
        }
    }
}
