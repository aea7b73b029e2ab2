//! `scheduled_changes`: changes to a flag's targeting to apply at a given time.

use sqlx::sqlite::SqliteRow;
use sqlx::types::Json;
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::values::{self, Columns};
use crate::store::params::NewChange;
use crate::store::rows::ScheduledChange;
use crate::store::StoreResult;

/// Inserts a pending change; returns its id.
pub(super) async fn insert(
    connection: &mut SqliteConnection,
    new: &NewChange<'_>,
) -> StoreResult<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        r#"INSERT INTO scheduled_changes (id, flag_id, environment_id, execute_at, instructions,
               comment, status, created_by_token_id, created_by_name, created_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8, ?9)"#,
    )
    .bind(values::id(id))
    .bind(values::id(new.flag_id))
    .bind(values::id(new.environment_id))
    .bind(values::micros(new.execute_at))
    .bind(values::json(new.instructions)?)
    .bind(new.comment)
    .bind(values::id(new.created_by_token_id))
    .bind(new.created_by_name)
    .bind(values::micros(crate::store::now()))
    .execute(connection)
    .await?;
    Ok(id)
}

/// A flag's scheduled changes, in execution order.
pub(super) async fn list(
    connection: &mut SqliteConnection,
    flag_id: Uuid,
) -> StoreResult<Vec<ScheduledChange>> {
    let rows = sqlx::query(
        r#"SELECT s.id, s.flag_id, s.environment_id, f.project_id, f.key AS flag_key,
                  e.key AS environment_key, s.execute_at, s.instructions, s.comment, s.status,
                  s.created_by_token_id, s.created_by_name, s.failure_reason, s.applied_at,
                  s.created_at
           FROM scheduled_changes s
           JOIN flags f ON f.id = s.flag_id
           JOIN environments e ON e.id = s.environment_id
           WHERE s.flag_id = ?1 ORDER BY s.execute_at"#,
    )
    .bind(values::id(flag_id))
    .fetch_all(connection)
    .await?;
    rows.iter().map(scheduled_change).collect()
}

/// Pending changes due now, oldest first. No row locks: the session's write lock, held
/// from `BEGIN IMMEDIATE`, already keeps every other writer out.
pub(super) async fn claim_due(
    connection: &mut SqliteConnection,
    limit: i64,
) -> StoreResult<Vec<ScheduledChange>> {
    let rows = sqlx::query(
        r#"SELECT s.id, s.flag_id, s.environment_id, f.project_id, f.key AS flag_key,
                  e.key AS environment_key, s.execute_at, s.instructions, s.comment, s.status,
                  s.created_by_token_id, s.created_by_name, s.failure_reason, s.applied_at,
                  s.created_at
           FROM scheduled_changes s
           JOIN flags f ON f.id = s.flag_id
           JOIN environments e ON e.id = s.environment_id
           WHERE s.status = 'pending' AND s.execute_at <= ?1
           ORDER BY s.execute_at LIMIT ?2"#,
    )
    .bind(values::micros(crate::store::now()))
    .bind(limit)
    .fetch_all(connection)
    .await?;
    rows.iter().map(scheduled_change).collect()
}

/// Records the outcome of a pending change; `false` when it was no longer pending.
pub(super) async fn finish(
    connection: &mut SqliteConnection,
    id: Uuid,
    status: &str,
    failure_reason: Option<&str>,
) -> StoreResult<bool> {
    let result = sqlx::query(
        r#"UPDATE scheduled_changes SET status = ?2, failure_reason = ?3, applied_at = ?4
           WHERE id = ?1 AND status = 'pending'"#,
    )
    .bind(values::id(id))
    .bind(status)
    .bind(failure_reason)
    .bind(values::micros(crate::store::now()))
    .execute(connection)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Cancels a pending change of the flag; returns its status before, `None` when the flag
/// has no such change.
pub(super) async fn cancel(
    connection: &mut SqliteConnection,
    flag_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<String>> {
    let row = sqlx::query(r#"SELECT status FROM scheduled_changes WHERE id = ?1 AND flag_id = ?2"#)
        .bind(values::id(id))
        .bind(values::id(flag_id))
        .fetch_optional(&mut *connection)
        .await?;
    let status = row
        .map(|row| Columns::of(&row, "scheduled_changes").text("status"))
        .transpose()?;
    if status.as_deref() == Some("pending") {
        sqlx::query(r#"UPDATE scheduled_changes SET status = 'cancelled' WHERE id = ?1"#)
            .bind(values::id(id))
            .execute(connection)
            .await?;
    }
    Ok(status)
}

fn scheduled_change(row: &SqliteRow) -> StoreResult<ScheduledChange> {
    let columns = Columns::of(row, "scheduled_changes");
    let flag = Columns::of(row, "flags");
    Ok(ScheduledChange {
        id: columns.uuid("id")?,
        flag_id: columns.uuid("flag_id")?,
        environment_id: columns.uuid("environment_id")?,
        project_id: flag.uuid("project_id")?,
        flag_key: flag.text("flag_key")?,
        environment_key: Columns::of(row, "environments").text("environment_key")?,
        execute_at: columns.time("execute_at")?,
        instructions: Json(columns.json("instructions")?),
        comment: columns.text("comment")?,
        status: columns.text("status")?,
        created_by_token_id: columns.optional_uuid("created_by_token_id")?,
        created_by_name: columns.text("created_by_name")?,
        failure_reason: columns.optional_text("failure_reason")?,
        applied_at: columns.optional_time("applied_at")?,
        created_at: columns.time("created_at")?,
    })
}
