//! `config.environments`.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::store::rows::Environment;
use crate::store::StoreError;

pub async fn list(
    connection: &mut PgConnection,
    project_id: Uuid,
) -> Result<Vec<Environment>, StoreError> {
    sqlx::query_as!(
        Environment,
        r#"SELECT id, project_id, key, name, is_critical, sequence, created_at, updated_at
           FROM config.environments WHERE project_id = $1 ORDER BY created_at, key"#,
        project_id
    )
    .fetch_all(connection)
    .await
    .map_err(StoreError::from)
}

/// Every environment of every project (FlagSync's "watch all").
pub async fn list_all(connection: &mut PgConnection) -> Result<Vec<Environment>, StoreError> {
    sqlx::query_as!(
        Environment,
        r#"SELECT id, project_id, key, name, is_critical, sequence, created_at, updated_at
           FROM config.environments ORDER BY id"#
    )
    .fetch_all(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn find(
    connection: &mut PgConnection,
    project_id: Uuid,
    key: &str,
) -> Result<Option<Environment>, StoreError> {
    sqlx::query_as!(
        Environment,
        r#"SELECT id, project_id, key, name, is_critical, sequence, created_at, updated_at
           FROM config.environments WHERE project_id = $1 AND key = $2"#,
        project_id,
        key
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn find_by_id(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Environment>, StoreError> {
    sqlx::query_as!(
        Environment,
        r#"SELECT id, project_id, key, name, is_critical, sequence, created_at, updated_at
           FROM config.environments WHERE id = $1"#,
        id
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

/// Inserts an environment; `None` when the project already has the key.
pub async fn insert(
    connection: &mut PgConnection,
    project_id: Uuid,
    key: &str,
    name: &str,
    is_critical: bool,
) -> Result<Option<Environment>, StoreError> {
    let now = crate::store::now();
    sqlx::query_as!(
        Environment,
        r#"INSERT INTO config.environments (id, project_id, key, name, is_critical, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (project_id, key) DO NOTHING
           RETURNING id, project_id, key, name, is_critical, sequence, created_at, updated_at"#,
        Uuid::new_v4(),
        project_id,
        key,
        name,
        is_critical,
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
    is_critical: bool,
) -> Result<Environment, StoreError> {
    sqlx::query_as!(
        Environment,
        r#"UPDATE config.environments SET name = $2, is_critical = $3, updated_at = $4 WHERE id = $1
           RETURNING id, project_id, key, name, is_critical, sequence, created_at, updated_at"#,
        id,
        name,
        is_critical,
        crate::store::now(),
    )
    .fetch_one(connection)
    .await
    .map_err(StoreError::from)
}

/// Deletes the environment and returns the sequence number its closing change takes.
pub async fn delete(connection: &mut PgConnection, id: Uuid) -> Result<i64, StoreError> {
    let sequence = sqlx::query_scalar!(
        "DELETE FROM config.environments WHERE id = $1 RETURNING sequence + 1",
        id
    )
    .fetch_one(connection)
    .await?;
    Ok(sequence.expect("sequence + 1 of a NOT NULL column is not null"))
}
