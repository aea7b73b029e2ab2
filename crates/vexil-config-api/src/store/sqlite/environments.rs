//! `environments`, whose `sequence` numbers each environment's FlagSync changes.

use sqlx::sqlite::SqliteRow;
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::values::{self, Columns};
use crate::store::rows::Environment;
use crate::store::StoreResult;

/// A project's environments in creation order (then by key).
pub(super) async fn list(
    connection: &mut SqliteConnection,
    project_id: Uuid,
) -> StoreResult<Vec<Environment>> {
    let rows = sqlx::query(
        r#"SELECT id, project_id, key, name, is_critical, sequence, created_at, updated_at
           FROM environments WHERE project_id = ?1 ORDER BY created_at, key"#,
    )
    .bind(values::id(project_id))
    .fetch_all(connection)
    .await?;
    rows.iter().map(environment).collect()
}

/// Every environment of every project (FlagSync's "watch all"), by id.
pub(super) async fn list_all(connection: &mut SqliteConnection) -> StoreResult<Vec<Environment>> {
    let rows = sqlx::query(
        r#"SELECT id, project_id, key, name, is_critical, sequence, created_at, updated_at
           FROM environments ORDER BY id"#,
    )
    .fetch_all(connection)
    .await?;
    rows.iter().map(environment).collect()
}

pub(super) async fn find(
    connection: &mut SqliteConnection,
    project_id: Uuid,
    key: &str,
) -> StoreResult<Option<Environment>> {
    let row = sqlx::query(
        r#"SELECT id, project_id, key, name, is_critical, sequence, created_at, updated_at
           FROM environments WHERE project_id = ?1 AND key = ?2"#,
    )
    .bind(values::id(project_id))
    .bind(key)
    .fetch_optional(connection)
    .await?;
    row.as_ref().map(environment).transpose()
}

pub(super) async fn find_by_id(
    connection: &mut SqliteConnection,
    id: Uuid,
) -> StoreResult<Option<Environment>> {
    let row = sqlx::query(
        r#"SELECT id, project_id, key, name, is_critical, sequence, created_at, updated_at
           FROM environments WHERE id = ?1"#,
    )
    .bind(values::id(id))
    .fetch_optional(connection)
    .await?;
    row.as_ref().map(environment).transpose()
}

/// Inserts an environment; `None` when the project already has the key.
pub(super) async fn insert(
    connection: &mut SqliteConnection,
    project_id: Uuid,
    key: &str,
    name: &str,
    is_critical: bool,
) -> StoreResult<Option<Environment>> {
    let row = sqlx::query(
        r#"INSERT INTO environments (id, project_id, key, name, is_critical, created_at, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (project_id, key) DO NOTHING
           RETURNING id, project_id, key, name, is_critical, sequence, created_at, updated_at"#,
    )
    .bind(values::id(Uuid::new_v4()))
    .bind(values::id(project_id))
    .bind(key)
    .bind(name)
    .bind(is_critical)
    .bind(values::micros(crate::store::now()))
    .fetch_optional(connection)
    .await?;
    row.as_ref().map(environment).transpose()
}

pub(super) async fn update(
    connection: &mut SqliteConnection,
    id: Uuid,
    name: &str,
    is_critical: bool,
) -> StoreResult<Environment> {
    let row = sqlx::query(
        r#"UPDATE environments SET name = ?2, is_critical = ?3, updated_at = ?4 WHERE id = ?1
           RETURNING id, project_id, key, name, is_critical, sequence, created_at, updated_at"#,
    )
    .bind(values::id(id))
    .bind(name)
    .bind(is_critical)
    .bind(values::micros(crate::store::now()))
    .fetch_one(connection)
    .await?;
    environment(&row)
}

/// Deletes the environment (and, by cascade, everything in it) and returns the sequence
/// number its closing change takes.
pub(super) async fn delete(connection: &mut SqliteConnection, id: Uuid) -> StoreResult<i64> {
    let row =
        sqlx::query(r#"DELETE FROM environments WHERE id = ?1 RETURNING sequence + 1 AS next"#)
            .bind(values::id(id))
            .fetch_one(connection)
            .await?;
    Columns::of(&row, "environments").integer("next")
}

/// Takes the environment's next sequence number for a change; `None` when the environment
/// no longer exists (PostgreSQL's sequencer drops such a change too: the environment's
/// `environment_deleted` change has closed its stream).
pub(super) async fn next_sequence(
    connection: &mut SqliteConnection,
    id: Uuid,
) -> StoreResult<Option<i64>> {
    let row = sqlx::query(
        r#"UPDATE environments SET sequence = sequence + 1 WHERE id = ?1 RETURNING sequence"#,
    )
    .bind(values::id(id))
    .fetch_optional(connection)
    .await?;
    row.map(|row| Columns::of(&row, "environments").integer("sequence"))
        .transpose()
}

fn environment(row: &SqliteRow) -> StoreResult<Environment> {
    let columns = Columns::of(row, "environments");
    Ok(Environment {
        id: columns.uuid("id")?,
        project_id: columns.uuid("project_id")?,
        key: columns.text("key")?,
        name: columns.text("name")?,
        is_critical: columns.boolean("is_critical")?,
        sequence: columns.integer("sequence")?,
        created_at: columns.time("created_at")?,
        updated_at: columns.time("updated_at")?,
    })
}
