//! One LISTEN connection per replica: each notification of a committed change is turned
//! into the change rows, fetched once, and broadcast to this replica's watchers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::CHANGES_CHANNEL;
use crate::store::changes;
use crate::store::rows::Change;

/// What watchers receive.
#[derive(Debug, Clone)]
pub enum HubEvent {
    /// A committed change, in per-environment sequence order.
    Change(Arc<Change>),
    /// Notifications may have been lost (the LISTEN connection dropped): every watcher
    /// re-reads its environments from its last sequence number.
    Resync,
}

/// Broadcasts committed changes to this replica's watchers. Cheap to clone.
#[derive(Clone)]
pub struct ChangeHub {
    sender: broadcast::Sender<HubEvent>,
}

const CAPACITY: usize = 16 * 1024;
const FETCH_LIMIT: i64 = 1_000;

impl Default for ChangeHub {
    fn default() -> ChangeHub {
        ChangeHub::new()
    }
}

impl ChangeHub {
    /// Starts listening; the task ends when `shutdown` fires.
    pub async fn start(
        pool: PgPool,
        shutdown: CancellationToken,
    ) -> Result<ChangeHub, sqlx::Error> {
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANGES_CHANNEL).await?;
        let hub = ChangeHub::new();
        let task_hub = hub.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = task_hub.listen(pool, listener) => {}
            }
        });
        Ok(hub)
    }

    /// A hub nothing feeds yet: the store publishes on it (`ConfigStore::start`).
    pub fn new() -> ChangeHub {
        let (sender, _) = broadcast::channel(CAPACITY);
        ChangeHub { sender }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<HubEvent> {
        self.sender.subscribe()
    }

    /// Sends to every current subscriber; a store calls it for each committed change, in
    /// per-environment sequence order, and with `Resync` when it may have missed some.
    pub fn publish(&self, event: HubEvent) {
        let _ = self.sender.send(event);
    }

    async fn listen(self, pool: PgPool, mut listener: PgListener) {
        let mut fetched: HashMap<Uuid, i64> = HashMap::new();
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some((environment_id, sequence)) = parse(notification.payload()) {
                        self.fetch_and_send(&pool, &mut fetched, environment_id, sequence)
                            .await;
                    } else {
                        tracing::warn!(
                            payload = notification.payload(),
                            "malformed change notification"
                        );
                    }
                }
                Ok(None) => {
                    // The connection dropped and sqlx reconnected: notifications sent in
                    // between are lost, so watchers catch up from the table.
                    tracing::warn!("change listener reconnected, watchers resync");
                    fetched.clear();
                    self.publish(HubEvent::Resync);
                }
                Err(error) => {
                    tracing::warn!(%error, "change listener failed, retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    fetched.clear();
                    self.publish(HubEvent::Resync);
                }
            }
        }
    }

    async fn fetch_and_send(
        &self,
        pool: &PgPool,
        fetched: &mut HashMap<Uuid, i64>,
        environment_id: Uuid,
        sequence: i64,
    ) {
        let after = fetched
            .get(&environment_id)
            .copied()
            .unwrap_or(sequence - 1);
        if sequence <= after {
            return; // already fetched with an earlier batch
        }
        let rows = match pool.acquire().await {
            Ok(mut connection) => {
                changes::since(&mut connection, environment_id, after, FETCH_LIMIT).await
            }
            Err(error) => Err(error.into()),
        };
        match rows {
            Ok(rows) => {
                for change in rows {
                    fetched.insert(environment_id, change.sequence);
                    self.publish(HubEvent::Change(Arc::new(change)));
                }
            }
            Err(error) => {
                tracing::warn!(%error, %environment_id, "cannot read committed changes, watchers resync");
                fetched.remove(&environment_id);
                self.publish(HubEvent::Resync);
            }
        }
    }
}

fn parse(payload: &str) -> Option<(Uuid, i64)> {
    let (environment_id, sequence) = payload.split_once(':')?;
    Some((environment_id.parse().ok()?, sequence.parse().ok()?))
}
