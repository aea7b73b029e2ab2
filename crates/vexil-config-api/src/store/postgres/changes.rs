//! The FlagSync outbox (`config.changes`): each committed change to an environment's
//! configuration, numbered per environment. Writes queue changes (`config.change_queue`);
//! the sequencer numbers them into the outbox, whose insert trigger notifies every replica.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::store::kinds::ChangeKind;
use crate::store::rows::Change;
use crate::store::StoreError;

/// Queues a change in the caller's transaction. It takes no shared lock: the sequencer
/// numbers it after commit (`sequencing.rs`), so concurrent writes to one
/// environment do not wait for each other.
pub async fn record(
    connection: &mut PgConnection,
    environment_id: Uuid,
    kind: ChangeKind,
    key: &str,
    version: i64,
    payload: Vec<u8>,
) -> Result<(), StoreError> {
    sqlx::query!(
        r#"INSERT INTO config.change_queue (environment_id, kind, key, version, payload)
           VALUES ($1, $2, $3, $4, $5)"#,
        environment_id,
        kind.as_str(),
        key,
        version,
        payload,
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// The change that closes an environment's stream; the environment row is gone, so the
/// sequence number is given.
pub async fn record_environment_deleted(
    connection: &mut PgConnection,
    environment_id: Uuid,
    sequence: i64,
) -> Result<(), StoreError> {
    sqlx::query!(
        r#"INSERT INTO config.changes (environment_id, sequence, kind, key)
           VALUES ($1, $2, 'environment_deleted', '')"#,
        environment_id,
        sequence,
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Changes of one environment after `after_sequence`, oldest first.
pub async fn since(
    connection: &mut PgConnection,
    environment_id: Uuid,
    after_sequence: i64,
    limit: i64,
) -> Result<Vec<Change>, StoreError> {
    sqlx::query_as!(
        Change,
        r#"SELECT environment_id, sequence, kind, key, version, payload FROM config.changes
           WHERE environment_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3"#,
        environment_id,
        after_sequence,
        limit,
    )
    .fetch_all(&mut *connection)
    .await
    .map_err(StoreError::from)
}

/// The oldest sequence number still held for an environment, if any.
pub async fn oldest_held(
    connection: &mut PgConnection,
    environment_id: Uuid,
) -> Result<Option<i64>, StoreError> {
    sqlx::query_scalar!(
        r#"SELECT min(sequence) FROM config.changes WHERE environment_id = $1"#,
        environment_id,
    )
    .fetch_one(&mut *connection)
    .await
    .map_err(StoreError::from)
}

/// Deletes changes committed before `cutoff`, keeping each environment's newest one so a
/// resuming watcher can always tell whether it is up to date.
pub async fn prune(
    connection: &mut PgConnection,
    cutoff: OffsetDateTime,
) -> Result<u64, StoreError> {
    let result = sqlx::query!(
        r#"DELETE FROM config.changes c WHERE committed_at < $1
           AND sequence < (SELECT max(sequence) FROM config.changes m
                           WHERE m.environment_id = c.environment_id)"#,
        cutoff,
    )
    .execute(&mut *connection)
    .await?;
    Ok(result.rows_affected())
}
