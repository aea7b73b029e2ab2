//! One LISTEN connection per replica: each notification of a numbered change (sent by the
//! `config.changes` insert trigger, whichever replica's sequencer inserted it) is turned
//! into the change rows, fetched once, and published on this replica's `ChangeHub`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::changes;
use crate::sync::{ChangeHub, HubEvent};

/// The channel the `config.changes` insert trigger notifies (see the migration).
pub const CHANGES_CHANNEL: &str = "vexil_config_changes";

/// How many changes of one environment one fetch reads.
const FETCH_LIMIT: i64 = 1_000;
/// How long a failed LISTEN connection waits before the next try.
const RETRY_DELAY: Duration = Duration::from_millis(500);

/// Starts listening before it returns, so no change numbered after the call is missed;
/// the task ends when `shutdown` fires.
pub async fn start(
    pool: PgPool,
    hub: ChangeHub,
    shutdown: CancellationToken,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(CHANGES_CHANNEL).await?;
    tokio::spawn(async move {
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = listen(hub, pool, listener) => {}
        }
    });
    Ok(())
}

async fn listen(hub: ChangeHub, pool: PgPool, mut listener: PgListener) {
    let mut fetched: HashMap<Uuid, i64> = HashMap::new();
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                if let Some((environment_id, sequence)) = parse(notification.payload()) {
                    fetch_and_publish(&hub, &pool, &mut fetched, environment_id, sequence).await;
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
                hub.publish(HubEvent::Resync);
            }
            Err(error) => {
                tracing::warn!(%error, "change listener failed, retrying");
                tokio::time::sleep(RETRY_DELAY).await;
                fetched.clear();
                hub.publish(HubEvent::Resync);
            }
        }
    }
}

async fn fetch_and_publish(
    hub: &ChangeHub,
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
                hub.publish(HubEvent::Change(Arc::new(change)));
            }
        }
        Err(error) => {
            tracing::warn!(%error, %environment_id, "cannot read committed changes, watchers resync");
            fetched.remove(&environment_id);
            hub.publish(HubEvent::Resync);
        }
    }
}

/// A notification's payload: `{environment_id}:{sequence}`.
fn parse(payload: &str) -> Option<(Uuid, i64)> {
    let (environment_id, sequence) = payload.split_once(':')?;
    Some((environment_id.parse().ok()?, sequence.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_names_the_environment_and_the_sequence() {
        let id = Uuid::new_v4();
        assert_eq!(parse(&format!("{id}:42")), Some((id, 42)));
        assert_eq!(parse("not-a-uuid:42"), None);
        assert_eq!(parse(&format!("{id}:x")), None);
        assert_eq!(parse(&id.to_string()), None);
    }
}
