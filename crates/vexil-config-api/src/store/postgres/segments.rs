//! `config.segments`: segments belong to one environment.

use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::store::params::SegmentFields;
use crate::store::rows::SegmentRow;
use crate::store::StoreError;

pub async fn list(
    connection: &mut PgConnection,
    environment_id: Uuid,
) -> Result<Vec<SegmentRow>, StoreError> {
    sqlx::query_as!(
        SegmentRow,
        r#"SELECT id, environment_id, key, name, description, tags, version,
                  data AS "data: Json<vexil_eval::Segment>", created_at, updated_at
           FROM config.segments WHERE environment_id = $1 ORDER BY key"#,
        environment_id
    )
    .fetch_all(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn find(
    connection: &mut PgConnection,
    environment_id: Uuid,
    key: &str,
) -> Result<Option<SegmentRow>, StoreError> {
    sqlx::query_as!(
        SegmentRow,
        r#"SELECT id, environment_id, key, name, description, tags, version,
                  data AS "data: Json<vexil_eval::Segment>", created_at, updated_at
           FROM config.segments WHERE environment_id = $1 AND key = $2"#,
        environment_id,
        key
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn find_for_update(
    connection: &mut PgConnection,
    environment_id: Uuid,
    key: &str,
) -> Result<Option<SegmentRow>, StoreError> {
    sqlx::query_as!(
        SegmentRow,
        r#"SELECT id, environment_id, key, name, description, tags, version,
                  data AS "data: Json<vexil_eval::Segment>", created_at, updated_at
           FROM config.segments WHERE environment_id = $1 AND key = $2 FOR UPDATE"#,
        environment_id,
        key
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

/// Inserts a segment; `None` when the environment already has the key.
pub async fn insert(
    connection: &mut PgConnection,
    environment_id: Uuid,
    fields: &SegmentFields<'_>,
    version: i64,
    data: &vexil_eval::Segment,
) -> Result<Option<SegmentRow>, StoreError> {
    let now = crate::store::now();
    sqlx::query_as!(
        SegmentRow,
        r#"INSERT INTO config.segments (id, environment_id, key, name, description, tags, version,
               data, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
           ON CONFLICT (environment_id, key) DO NOTHING
           RETURNING id, environment_id, key, name, description, tags, version,
                     data AS "data: Json<vexil_eval::Segment>", created_at, updated_at"#,
        Uuid::new_v4(),
        environment_id,
        data.key,
        fields.name,
        fields.description,
        fields.tags,
        version,
        Json(data) as _,
        now,
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn update(
    connection: &mut PgConnection,
    id: Uuid,
    fields: &SegmentFields<'_>,
    version: i64,
    data: &vexil_eval::Segment,
) -> Result<SegmentRow, StoreError> {
    sqlx::query_as!(
        SegmentRow,
        r#"UPDATE config.segments SET name = $2, description = $3, tags = $4, version = $5,
               data = $6, updated_at = $7
           WHERE id = $1
           RETURNING id, environment_id, key, name, description, tags, version,
                     data AS "data: Json<vexil_eval::Segment>", created_at, updated_at"#,
        id,
        fields.name,
        fields.description,
        fields.tags,
        version,
        Json(data) as _,
        crate::store::now(),
    )
    .fetch_one(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn delete(connection: &mut PgConnection, id: Uuid) -> Result<(), StoreError> {
    sqlx::query!("DELETE FROM config.segments WHERE id = $1", id)
        .execute(connection)
        .await?;
    Ok(())
}
