//! `config.projects`.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::store::rows::Project;
use crate::store::StoreError;

pub async fn list(connection: &mut PgConnection) -> Result<Vec<Project>, StoreError> {
    sqlx::query_as!(
        Project,
        "SELECT id, key, name, description, tags, created_at, updated_at FROM config.projects ORDER BY key"
    )
    .fetch_all(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn find(connection: &mut PgConnection, key: &str) -> Result<Option<Project>, StoreError> {
    sqlx::query_as!(
        Project,
        "SELECT id, key, name, description, tags, created_at, updated_at FROM config.projects WHERE key = $1",
        key
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn find_by_id(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Project>, StoreError> {
    sqlx::query_as!(
        Project,
        "SELECT id, key, name, description, tags, created_at, updated_at FROM config.projects WHERE id = $1",
        id
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

/// Inserts a project; `None` when the key is taken.
pub async fn insert(
    connection: &mut PgConnection,
    key: &str,
    name: &str,
    description: &str,
    tags: &[String],
) -> Result<Option<Project>, StoreError> {
    let now = crate::store::now();
    sqlx::query_as!(
        Project,
        r#"INSERT INTO config.projects (id, key, name, description, tags, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (key) DO NOTHING
           RETURNING id, key, name, description, tags, created_at, updated_at"#,
        Uuid::new_v4(),
        key,
        name,
        description,
        tags,
        now,
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn update(
    connection: &mut PgConnection,
    id: Uuid,
    name: &str,
    description: &str,
    tags: &[String],
) -> Result<Project, StoreError> {
    sqlx::query_as!(
        Project,
        r#"UPDATE config.projects SET name = $2, description = $3, tags = $4, updated_at = $5
           WHERE id = $1 RETURNING id, key, name, description, tags, created_at, updated_at"#,
        id,
        name,
        description,
        tags,
        crate::store::now(),
    )
    .fetch_one(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn delete(connection: &mut PgConnection, id: Uuid) -> Result<(), StoreError> {
    sqlx::query!("DELETE FROM config.projects WHERE id = $1", id)
        .execute(connection)
        .await?;
    Ok(())
}
