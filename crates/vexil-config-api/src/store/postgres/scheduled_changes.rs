//! `config.scheduled_changes`.

use serde_json::Value;
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::store::params::NewChange;
use crate::store::rows::ScheduledChange;
use crate::store::StoreError;

pub async fn insert(
    connection: &mut PgConnection,
    new: &NewChange<'_>,
) -> Result<Uuid, StoreError> {
    let id = Uuid::new_v4();
    sqlx::query!(
        r#"INSERT INTO config.scheduled_changes (id, flag_id, environment_id, execute_at, instructions,
               comment, status, created_by_token_id, created_by_name, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9)"#,
        id,
        new.flag_id,
        new.environment_id,
        new.execute_at,
        new.instructions,
        new.comment,
        new.created_by_token_id,
        new.created_by_name,
        crate::store::now(),
    )
    .execute(connection)
    .await?;
    Ok(id)
}

pub async fn list(
    connection: &mut PgConnection,
    flag_id: Uuid,
) -> Result<Vec<ScheduledChange>, StoreError> {
    sqlx::query_as!(
        ScheduledChange,
        r#"SELECT s.id, s.flag_id, s.environment_id, f.project_id, f.key AS flag_key,
                  e.key AS environment_key, s.execute_at,
                  s.instructions AS "instructions: Json<Value>", s.comment, s.status,
                  s.created_by_token_id, s.created_by_name, s.failure_reason, s.applied_at,
                  s.created_at
           FROM config.scheduled_changes s
           JOIN config.flags f ON f.id = s.flag_id
           JOIN config.environments e ON e.id = s.environment_id
           WHERE s.flag_id = $1 ORDER BY s.execute_at"#,
        flag_id,
    )
    .fetch_all(connection)
    .await
    .map_err(StoreError::from)
}

/// Due changes, locked; rows another replica holds are skipped, so each change is applied
/// by exactly one replica.
pub async fn claim_due(
    connection: &mut PgConnection,
    limit: i64,
) -> Result<Vec<ScheduledChange>, StoreError> {
    sqlx::query_as!(
        ScheduledChange,
        r#"SELECT s.id, s.flag_id, s.environment_id, f.project_id, f.key AS flag_key,
                  e.key AS environment_key, s.execute_at,
                  s.instructions AS "instructions: Json<Value>", s.comment, s.status,
                  s.created_by_token_id, s.created_by_name, s.failure_reason, s.applied_at,
                  s.created_at
           FROM config.scheduled_changes s
           JOIN config.flags f ON f.id = s.flag_id
           JOIN config.environments e ON e.id = s.environment_id
           WHERE s.status = 'pending' AND s.execute_at <= now()
           ORDER BY s.execute_at LIMIT $1
           FOR UPDATE OF s SKIP LOCKED"#,
        limit,
    )
    .fetch_all(connection)
    .await
    .map_err(StoreError::from)
}

/// Records the outcome of a pending change; `false` when it was no longer pending.
pub async fn finish(
    connection: &mut PgConnection,
    id: Uuid,
    status: &str,
    failure_reason: Option<&str>,
) -> Result<bool, StoreError> {
    let result = sqlx::query!(
        r#"UPDATE config.scheduled_changes SET status = $2, failure_reason = $3, applied_at = $4
           WHERE id = $1 AND status = 'pending'"#,
        id,
        status,
        failure_reason,
        crate::store::now(),
    )
    .execute(connection)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn cancel(
    connection: &mut PgConnection,
    flag_id: Uuid,
    id: Uuid,
) -> Result<Option<String>, StoreError> {
    // Returns the status before cancelling, `None` when there is no such change.
    let status = sqlx::query_scalar!(
        "SELECT status FROM config.scheduled_changes WHERE id = $1 AND flag_id = $2 FOR UPDATE",
        id,
        flag_id
    )
    .fetch_optional(&mut *connection)
    .await?;
    if status.as_deref() == Some("pending") {
        sqlx::query!(
            "UPDATE config.scheduled_changes SET status = 'cancelled' WHERE id = $1",
            id
        )
        .execute(connection)
        .await?;
    }
    Ok(status)
}
