//! `projects`.

use sqlx::sqlite::SqliteRow;
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::values::{self, Columns};
use crate::store::rows::Project;
use crate::store::StoreResult;

pub(super) async fn list(connection: &mut SqliteConnection) -> StoreResult<Vec<Project>> {
    let rows = sqlx::query(
        r#"SELECT id, key, name, description, tags, created_at, updated_at FROM projects
           ORDER BY key"#,
    )
    .fetch_all(connection)
    .await?;
    rows.iter().map(project).collect()
}

pub(super) async fn find(
    connection: &mut SqliteConnection,
    key: &str,
) -> StoreResult<Option<Project>> {
    let row = sqlx::query(
        r#"SELECT id, key, name, description, tags, created_at, updated_at FROM projects
           WHERE key = ?1"#,
    )
    .bind(key)
    .fetch_optional(connection)
    .await?;
    row.as_ref().map(project).transpose()
}

pub(super) async fn find_by_id(
    connection: &mut SqliteConnection,
    id: Uuid,
) -> StoreResult<Option<Project>> {
    let row = sqlx::query(
        r#"SELECT id, key, name, description, tags, created_at, updated_at FROM projects
           WHERE id = ?1"#,
    )
    .bind(values::id(id))
    .fetch_optional(connection)
    .await?;
    row.as_ref().map(project).transpose()
}

/// Inserts a project; `None` when the key is taken.
pub(super) async fn insert(
    connection: &mut SqliteConnection,
    key: &str,
    name: &str,
    description: &str,
    tags: &[String],
) -> StoreResult<Option<Project>> {
    let row = sqlx::query(
        r#"INSERT INTO projects (id, key, name, description, tags, created_at, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (key) DO NOTHING
           RETURNING id, key, name, description, tags, created_at, updated_at"#,
    )
    .bind(values::id(Uuid::new_v4()))
    .bind(key)
    .bind(name)
    .bind(description)
    .bind(values::texts(tags))
    .bind(values::micros(crate::store::now()))
    .fetch_optional(connection)
    .await?;
    row.as_ref().map(project).transpose()
}

pub(super) async fn update(
    connection: &mut SqliteConnection,
    id: Uuid,
    name: &str,
    description: &str,
    tags: &[String],
) -> StoreResult<Project> {
    let row = sqlx::query(
        r#"UPDATE projects SET name = ?2, description = ?3, tags = ?4, updated_at = ?5
           WHERE id = ?1 RETURNING id, key, name, description, tags, created_at, updated_at"#,
    )
    .bind(values::id(id))
    .bind(name)
    .bind(description)
    .bind(values::texts(tags))
    .bind(values::micros(crate::store::now()))
    .fetch_one(connection)
    .await?;
    project(&row)
}

/// Deletes the project and, by cascade, its environments, flags and everything in them.
pub(super) async fn delete(connection: &mut SqliteConnection, id: Uuid) -> StoreResult<()> {
    sqlx::query(r#"DELETE FROM projects WHERE id = ?1"#)
        .bind(values::id(id))
        .execute(connection)
        .await?;
    Ok(())
}

fn project(row: &SqliteRow) -> StoreResult<Project> {
    let columns = Columns::of(row, "projects");
    Ok(Project {
        id: columns.uuid("id")?,
        key: columns.text("key")?,
        name: columns.text("name")?,
        description: columns.text("description")?,
        tags: columns.texts("tags")?,
        created_at: columns.time("created_at")?,
        updated_at: columns.time("updated_at")?,
    })
}
