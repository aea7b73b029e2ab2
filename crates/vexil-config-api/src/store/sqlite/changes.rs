//! The FlagSync outbox (`changes`): each committed change to an environment's
//! configuration, numbered per environment inside the write transaction that makes it
//! (SQLite has one writer at a time, so numbering in the transaction is commit order).

use sqlx::sqlite::SqliteRow;
use sqlx::SqliteConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::environments;
use super::values::{self, Columns};
use crate::store::kinds::ChangeKind;
use crate::store::rows::Change;
use crate::store::StoreResult;

/// Numbers a change with the environment's next sequence number and inserts it; returns it
/// for publishing after commit, or `None` when the environment no longer exists.
pub(super) async fn record(
    connection: &mut SqliteConnection,
    environment_id: Uuid,
    kind: ChangeKind,
    key: &str,
    version: i64,
    payload: Vec<u8>,
) -> StoreResult<Option<Change>> {
    let Some(sequence) = environments::next_sequence(connection, environment_id).await? else {
        return Ok(None);
    };
    let change = Change {
        environment_id,
        sequence,
        kind: kind.as_str().to_owned(),
        key: key.to_owned(),
        version,
        payload,
    };
    insert(connection, &change).await?;
    Ok(Some(change))
}

/// The change that closes a deleted environment's stream, at the sequence number its
/// deletion returned (the environment row is gone).
pub(super) async fn record_environment_deleted(
    connection: &mut SqliteConnection,
    environment_id: Uuid,
    sequence: i64,
) -> StoreResult<Change> {
    let change = Change {
        environment_id,
        sequence,
        kind: ChangeKind::EnvironmentDeleted.as_str().to_owned(),
        key: String::new(),
        version: 0,
        payload: Vec::new(),
    };
    insert(connection, &change).await?;
    Ok(change)
}

async fn insert(connection: &mut SqliteConnection, change: &Change) -> StoreResult<()> {
    sqlx::query(
        r#"INSERT INTO changes (environment_id, sequence, kind, key, version, payload,
               committed_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"#,
    )
    .bind(values::id(change.environment_id))
    .bind(change.sequence)
    .bind(&change.kind)
    .bind(&change.key)
    .bind(change.version)
    .bind(&change.payload)
    .bind(values::micros(crate::store::now()))
    .execute(connection)
    .await?;
    Ok(())
}

/// Changes of one environment after `after_sequence`, oldest first.
pub(super) async fn since(
    connection: &mut SqliteConnection,
    environment_id: Uuid,
    after_sequence: i64,
    limit: i64,
) -> StoreResult<Vec<Change>> {
    let rows = sqlx::query(
        r#"SELECT environment_id, sequence, kind, key, version, payload FROM changes
           WHERE environment_id = ?1 AND sequence > ?2 ORDER BY sequence LIMIT ?3"#,
    )
    .bind(values::id(environment_id))
    .bind(after_sequence)
    .bind(limit)
    .fetch_all(connection)
    .await?;
    rows.iter().map(change).collect()
}

/// The oldest sequence number still held for an environment, if any.
pub(super) async fn oldest_held(
    connection: &mut SqliteConnection,
    environment_id: Uuid,
) -> StoreResult<Option<i64>> {
    let row =
        sqlx::query(r#"SELECT min(sequence) AS oldest FROM changes WHERE environment_id = ?1"#)
            .bind(values::id(environment_id))
            .fetch_one(connection)
            .await?;
    Columns::of(&row, "changes").optional_integer("oldest")
}

/// Deletes changes committed before `cutoff`, keeping each environment's newest one so a
/// resuming watcher can always tell whether it is up to date.
pub(super) async fn prune(
    connection: &mut SqliteConnection,
    cutoff: OffsetDateTime,
) -> StoreResult<u64> {
    let result = sqlx::query(
        r#"DELETE FROM changes WHERE committed_at < ?1
           AND sequence < (SELECT max(sequence) FROM changes m
                           WHERE m.environment_id = changes.environment_id)"#,
    )
    .bind(values::micros(cutoff))
    .execute(connection)
    .await?;
    Ok(result.rows_affected())
}

fn change(row: &SqliteRow) -> StoreResult<Change> {
    let columns = Columns::of(row, "changes");
    let kind = columns.text("kind")?;
    if ChangeKind::parse(&kind).is_none() {
        return Err(columns.corrupt("kind"));
    }
    Ok(Change {
        environment_id: columns.uuid("environment_id")?,
        sequence: columns.integer("sequence")?,
        kind,
        key: columns.text("key")?,
        version: columns.integer("version")?,
        payload: columns.blob("payload")?,
    })
}
