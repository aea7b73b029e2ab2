//! `config.approval_requests`.

use serde_json::Value;
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::store::params::NewRequest;
use crate::store::rows::ApprovalRequest;
use crate::store::StoreError;

pub async fn insert(
    connection: &mut PgConnection,
    new: &NewRequest<'_>,
) -> Result<Uuid, StoreError> {
    let id = Uuid::new_v4();
    let now = crate::store::now();
    sqlx::query!(
        r#"INSERT INTO config.approval_requests (id, flag_id, environment_id, instructions, comment,
               status, requested_by_token_id, requested_by_name, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $8)"#,
        id,
        new.flag_id,
        new.environment_id,
        new.instructions,
        new.comment,
        new.requested_by_token_id,
        new.requested_by_name,
        now,
    )
    .execute(connection)
    .await?;
    Ok(id)
}

/// A flag's requests, newest first, optionally of one status.
pub async fn list(
    connection: &mut PgConnection,
    flag_id: Uuid,
    status: Option<&str>,
) -> Result<Vec<ApprovalRequest>, StoreError> {
    sqlx::query_as!(
        ApprovalRequest,
        r#"SELECT a.id, a.flag_id, a.environment_id, f.key AS flag_key, e.key AS environment_key,
                  a.instructions AS "instructions: Json<Value>", a.comment, a.status,
                  a.requested_by_token_id, a.requested_by_name, a.reviewed_by_token_id,
                  a.reviewed_by_name, a.review_comment, a.created_at, a.updated_at
           FROM config.approval_requests a
           JOIN config.flags f ON f.id = a.flag_id
           JOIN config.environments e ON e.id = a.environment_id
           WHERE a.flag_id = $1 AND ($2::text IS NULL OR a.status = $2)
           ORDER BY a.created_at DESC"#,
        flag_id,
        status,
    )
    .fetch_all(connection)
    .await
    .map_err(StoreError::from)
}

/// One request of the flag, locked for update.
pub async fn find_for_update(
    connection: &mut PgConnection,
    flag_id: Uuid,
    id: Uuid,
) -> Result<Option<ApprovalRequest>, StoreError> {
    sqlx::query_as!(
        ApprovalRequest,
        r#"SELECT a.id, a.flag_id, a.environment_id, f.key AS flag_key, e.key AS environment_key,
                  a.instructions AS "instructions: Json<Value>", a.comment, a.status,
                  a.requested_by_token_id, a.requested_by_name, a.reviewed_by_token_id,
                  a.reviewed_by_name, a.review_comment, a.created_at, a.updated_at
           FROM config.approval_requests a
           JOIN config.flags f ON f.id = a.flag_id
           JOIN config.environments e ON e.id = a.environment_id
           WHERE a.flag_id = $1 AND a.id = $2
           FOR UPDATE OF a"#,
        flag_id,
        id,
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn review(
    connection: &mut PgConnection,
    id: Uuid,
    status: &str,
    reviewer_token_id: Uuid,
    reviewer_name: &str,
    comment: &str,
) -> Result<(), StoreError> {
    sqlx::query!(
        r#"UPDATE config.approval_requests SET status = $2, reviewed_by_token_id = $3,
               reviewed_by_name = $4, review_comment = $5, updated_at = $6
           WHERE id = $1"#,
        id,
        status,
        reviewer_token_id,
        reviewer_name,
        comment,
        crate::store::now(),
    )
    .execute(connection)
    .await?;
    Ok(())
}

pub async fn mark_applied(connection: &mut PgConnection, id: Uuid) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE config.approval_requests SET status = 'applied', updated_at = $2 WHERE id = $1",
        id,
        crate::store::now(),
    )
    .execute(connection)
    .await?;
    Ok(())
}
