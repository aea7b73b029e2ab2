//! `segments`: segments belong to one environment.

use sqlx::sqlite::SqliteRow;
use sqlx::types::Json;
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::values::{self, Columns};
use crate::store::params::SegmentFields;
use crate::store::rows::SegmentRow;
use crate::store::StoreResult;

/// An environment's segments, by key.
pub(super) async fn list(
    connection: &mut SqliteConnection,
    environment_id: Uuid,
) -> StoreResult<Vec<SegmentRow>> {
    let rows = sqlx::query(
        r#"SELECT id, environment_id, key, name, description, tags, version, data, created_at,
                  updated_at
           FROM segments WHERE environment_id = ?1 ORDER BY key"#,
    )
    .bind(values::id(environment_id))
    .fetch_all(connection)
    .await?;
    rows.iter().map(segment).collect()
}

pub(super) async fn find(
    connection: &mut SqliteConnection,
    environment_id: Uuid,
    key: &str,
) -> StoreResult<Option<SegmentRow>> {
    let row = sqlx::query(
        r#"SELECT id, environment_id, key, name, description, tags, version, data, created_at,
                  updated_at
           FROM segments WHERE environment_id = ?1 AND key = ?2"#,
    )
    .bind(values::id(environment_id))
    .bind(key)
    .fetch_optional(connection)
    .await?;
    row.as_ref().map(segment).transpose()
}

/// Inserts a segment under `data.key`; `None` when the environment already has the key.
pub(super) async fn insert(
    connection: &mut SqliteConnection,
    environment_id: Uuid,
    fields: &SegmentFields<'_>,
    version: i64,
    data: &vexil_eval::Segment,
) -> StoreResult<Option<SegmentRow>> {
    let row = sqlx::query(
        r#"INSERT INTO segments (id, environment_id, key, name, description, tags, version,
               data, created_at, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
           ON CONFLICT (environment_id, key) DO NOTHING
           RETURNING id, environment_id, key, name, description, tags, version, data,
                     created_at, updated_at"#,
    )
    .bind(values::id(Uuid::new_v4()))
    .bind(values::id(environment_id))
    .bind(&data.key)
    .bind(fields.name)
    .bind(fields.description)
    .bind(values::texts(fields.tags))
    .bind(version)
    .bind(values::json(data)?)
    .bind(values::micros(crate::store::now()))
    .fetch_optional(connection)
    .await?;
    row.as_ref().map(segment).transpose()
}

pub(super) async fn update(
    connection: &mut SqliteConnection,
    id: Uuid,
    fields: &SegmentFields<'_>,
    version: i64,
    data: &vexil_eval::Segment,
) -> StoreResult<SegmentRow> {
    let row = sqlx::query(
        r#"UPDATE segments SET name = ?2, description = ?3, tags = ?4, version = ?5, data = ?6,
               updated_at = ?7
           WHERE id = ?1
           RETURNING id, environment_id, key, name, description, tags, version, data,
                     created_at, updated_at"#,
    )
    .bind(values::id(id))
    .bind(fields.name)
    .bind(fields.description)
    .bind(values::texts(fields.tags))
    .bind(version)
    .bind(values::json(data)?)
    .bind(values::micros(crate::store::now()))
    .fetch_one(connection)
    .await?;
    segment(&row)
}

pub(super) async fn delete(connection: &mut SqliteConnection, id: Uuid) -> StoreResult<()> {
    sqlx::query(r#"DELETE FROM segments WHERE id = ?1"#)
        .bind(values::id(id))
        .execute(connection)
        .await?;
    Ok(())
}

fn segment(row: &SqliteRow) -> StoreResult<SegmentRow> {
    let columns = Columns::of(row, "segments");
    let version = columns.integer("version")?;
    if version <= 0 {
        // The schema keeps versions positive; `SegmentRow::sdk_segment` relies on it.
        return Err(columns.corrupt("version"));
    }
    Ok(SegmentRow {
        id: columns.uuid("id")?,
        environment_id: columns.uuid("environment_id")?,
        key: columns.text("key")?,
        name: columns.text("name")?,
        description: columns.text("description")?,
        tags: columns.texts("tags")?,
        version,
        data: Json(columns.json("data")?),
        created_at: columns.time("created_at")?,
        updated_at: columns.time("updated_at")?,
    })
}
