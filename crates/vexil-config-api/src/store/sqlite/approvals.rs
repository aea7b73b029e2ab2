//! `approval_requests`: changes to critical environments waiting for a reviewer.

use sqlx::sqlite::SqliteRow;
use sqlx::types::Json;
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::values::{self, Columns};
use crate::store::params::NewRequest;
use crate::store::rows::ApprovalRequest;
use crate::store::StoreResult;

/// Inserts a pending request; returns its id.
pub(super) async fn insert(
    connection: &mut SqliteConnection,
    new: &NewRequest<'_>,
) -> StoreResult<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        r#"INSERT INTO approval_requests (id, flag_id, environment_id, instructions, comment,
               status, requested_by_token_id, requested_by_name, created_at, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8, ?8)"#,
    )
    .bind(values::id(id))
    .bind(values::id(new.flag_id))
    .bind(values::id(new.environment_id))
    .bind(values::json(new.instructions)?)
    .bind(new.comment)
    .bind(values::id(new.requested_by_token_id))
    .bind(new.requested_by_name)
    .bind(values::micros(crate::store::now()))
    .execute(connection)
    .await?;
    Ok(id)
}

/// A flag's requests, newest first, optionally of one status.
pub(super) async fn list(
    connection: &mut SqliteConnection,
    flag_id: Uuid,
    status: Option<&str>,
) -> StoreResult<Vec<ApprovalRequest>> {
    let rows = sqlx::query(
        r#"SELECT a.id, a.flag_id, a.environment_id, f.key AS flag_key,
                  e.key AS environment_key, a.instructions, a.comment, a.status,
                  a.requested_by_token_id, a.requested_by_name, a.reviewed_by_token_id,
                  a.reviewed_by_name, a.review_comment, a.created_at, a.updated_at
           FROM approval_requests a
           JOIN flags f ON f.id = a.flag_id
           JOIN environments e ON e.id = a.environment_id
           WHERE a.flag_id = ?1 AND (?2 IS NULL OR a.status = ?2)
           ORDER BY a.created_at DESC"#,
    )
    .bind(values::id(flag_id))
    .bind(status)
    .fetch_all(connection)
    .await?;
    rows.iter().map(request).collect()
}

/// One request of the flag.
pub(super) async fn find(
    connection: &mut SqliteConnection,
    flag_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<ApprovalRequest>> {
    let row = sqlx::query(
        r#"SELECT a.id, a.flag_id, a.environment_id, f.key AS flag_key,
                  e.key AS environment_key, a.instructions, a.comment, a.status,
                  a.requested_by_token_id, a.requested_by_name, a.reviewed_by_token_id,
                  a.reviewed_by_name, a.review_comment, a.created_at, a.updated_at
           FROM approval_requests a
           JOIN flags f ON f.id = a.flag_id
           JOIN environments e ON e.id = a.environment_id
           WHERE a.flag_id = ?1 AND a.id = ?2"#,
    )
    .bind(values::id(flag_id))
    .bind(values::id(id))
    .fetch_optional(connection)
    .await?;
    row.as_ref().map(request).transpose()
}

pub(super) async fn review(
    connection: &mut SqliteConnection,
    id: Uuid,
    status: &str,
    reviewer_token_id: Uuid,
    reviewer_name: &str,
    comment: &str,
) -> StoreResult<()> {
    sqlx::query(
        r#"UPDATE approval_requests SET status = ?2, reviewed_by_token_id = ?3,
               reviewed_by_name = ?4, review_comment = ?5, updated_at = ?6
           WHERE id = ?1"#,
    )
    .bind(values::id(id))
    .bind(status)
    .bind(values::id(reviewer_token_id))
    .bind(reviewer_name)
    .bind(comment)
    .bind(values::micros(crate::store::now()))
    .execute(connection)
    .await?;
    Ok(())
}

pub(super) async fn mark_applied(connection: &mut SqliteConnection, id: Uuid) -> StoreResult<()> {
    sqlx::query(
        r#"UPDATE approval_requests SET status = 'applied', updated_at = ?2 WHERE id = ?1"#,
    )
    .bind(values::id(id))
    .bind(values::micros(crate::store::now()))
    .execute(connection)
    .await?;
    Ok(())
}

fn request(row: &SqliteRow) -> StoreResult<ApprovalRequest> {
    let columns = Columns::of(row, "approval_requests");
    Ok(ApprovalRequest {
        id: columns.uuid("id")?,
        flag_id: columns.uuid("flag_id")?,
        environment_id: columns.uuid("environment_id")?,
        flag_key: Columns::of(row, "flags").text("flag_key")?,
        environment_key: Columns::of(row, "environments").text("environment_key")?,
        instructions: Json(columns.json("instructions")?),
        comment: columns.text("comment")?,
        status: columns.text("status")?,
        requested_by_token_id: columns.optional_uuid("requested_by_token_id")?,
        requested_by_name: columns.text("requested_by_name")?,
        reviewed_by_token_id: columns.optional_uuid("reviewed_by_token_id")?,
        reviewed_by_name: columns.optional_text("reviewed_by_name")?,
        review_comment: columns.optional_text("review_comment")?,
        created_at: columns.time("created_at")?,
        updated_at: columns.time("updated_at")?,
    })
}
