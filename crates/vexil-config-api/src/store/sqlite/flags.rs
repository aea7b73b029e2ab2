//! `flags`: the project-level part of each flag, and the filtered, paged flag list.

use sqlx::sqlite::SqliteRow;
use sqlx::types::Json;
use sqlx::SqliteConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::values::{self, Columns};
use crate::store::params::{FlagFields, FlagFilter};
use crate::store::rows::{FlagRow, StaleCandidate};
use crate::store::StoreResult;

pub(super) async fn find(
    connection: &mut SqliteConnection,
    project_id: Uuid,
    key: &str,
) -> StoreResult<Option<FlagRow>> {
    let row = sqlx::query(
        r#"SELECT id, project_id, key, name, description, kind, variations, tags, maintainer,
                  is_temporary, using_mobile_key, using_environment_id, is_archived,
                  created_at, updated_at
           FROM flags WHERE project_id = ?1 AND key = ?2"#,
    )
    .bind(values::id(project_id))
    .bind(key)
    .fetch_optional(connection)
    .await?;
    row.as_ref().map(flag).transpose()
}

/// One page of a project's flags ordered by key, and how many match the filter.
///
/// The text filter is a case-insensitive substring of the key, name or description, with
/// `%`, `_` and `\` matched literally. SQLite's LIKE folds ASCII letters only, where
/// PostgreSQL's ILIKE folds per the database's ctype; for the keys and names flags have,
/// ASCII folding is what users expect.
pub(super) async fn list(
    connection: &mut SqliteConnection,
    project_id: Uuid,
    filter: &FlagFilter,
) -> StoreResult<(Vec<FlagRow>, i64)> {
    let pattern = filter.text_pattern();
    let rows = sqlx::query(
        r#"SELECT id, project_id, key, name, description, kind, variations, tags, maintainer,
                  is_temporary, using_mobile_key, using_environment_id, is_archived,
                  created_at, updated_at
           FROM flags
           WHERE project_id = ?1
             AND (?2 IS NULL OR EXISTS (SELECT 1 FROM json_each(flags.tags) WHERE value = ?2))
             AND (?3 IS NULL OR key LIKE ?3 ESCAPE '\' OR name LIKE ?3 ESCAPE '\'
                  OR description LIKE ?3 ESCAPE '\')
             AND (?4 IS NULL OR is_archived = ?4)
           ORDER BY key LIMIT ?5 OFFSET ?6"#,
    )
    .bind(values::id(project_id))
    .bind(filter.tag.as_deref())
    .bind(pattern.as_deref())
    .bind(filter.is_archived)
    .bind(filter.limit)
    .bind(filter.offset)
    .fetch_all(&mut *connection)
    .await?;
    let rows = rows.iter().map(flag).collect::<StoreResult<Vec<_>>>()?;
    let total = sqlx::query(
        r#"SELECT count(*) AS total FROM flags
           WHERE project_id = ?1
             AND (?2 IS NULL OR EXISTS (SELECT 1 FROM json_each(flags.tags) WHERE value = ?2))
             AND (?3 IS NULL OR key LIKE ?3 ESCAPE '\' OR name LIKE ?3 ESCAPE '\'
                  OR description LIKE ?3 ESCAPE '\')
             AND (?4 IS NULL OR is_archived = ?4)"#,
    )
    .bind(values::id(project_id))
    .bind(filter.tag.as_deref())
    .bind(pattern.as_deref())
    .bind(filter.is_archived)
    .fetch_one(connection)
    .await?;
    Ok((rows, Columns::of(&total, "flags").integer("total")?))
}

/// Every flag of a project, archived or not, by key.
pub(super) async fn list_for_project(
    connection: &mut SqliteConnection,
    project_id: Uuid,
) -> StoreResult<Vec<FlagRow>> {
    let rows = sqlx::query(
        r#"SELECT id, project_id, key, name, description, kind, variations, tags, maintainer,
                  is_temporary, using_mobile_key, using_environment_id, is_archived,
                  created_at, updated_at
           FROM flags WHERE project_id = ?1 ORDER BY key"#,
    )
    .bind(values::id(project_id))
    .fetch_all(connection)
    .await?;
    rows.iter().map(flag).collect()
}

/// Inserts a flag; `None` when the project already has the key.
pub(super) async fn insert(
    connection: &mut SqliteConnection,
    project_id: Uuid,
    key: &str,
    fields: &FlagFields<'_>,
) -> StoreResult<Option<FlagRow>> {
    let row = sqlx::query(
        r#"INSERT INTO flags (id, project_id, key, name, description, kind, variations, tags,
               maintainer, is_temporary, using_mobile_key, using_environment_id, created_at,
               updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)
           ON CONFLICT (project_id, key) DO NOTHING
           RETURNING id, project_id, key, name, description, kind, variations, tags,
                     maintainer, is_temporary, using_mobile_key, using_environment_id,
                     is_archived, created_at, updated_at"#,
    )
    .bind(values::id(Uuid::new_v4()))
    .bind(values::id(project_id))
    .bind(key)
    .bind(fields.name)
    .bind(fields.description)
    .bind(fields.kind)
    .bind(values::json(fields.variations)?)
    .bind(values::texts(fields.tags))
    .bind(fields.maintainer)
    .bind(fields.is_temporary)
    .bind(fields.using_mobile_key)
    .bind(fields.using_environment_id)
    .bind(values::micros(crate::store::now()))
    .fetch_optional(connection)
    .await?;
    row.as_ref().map(flag).transpose()
}

pub(super) async fn update(
    connection: &mut SqliteConnection,
    id: Uuid,
    fields: &FlagFields<'_>,
) -> StoreResult<FlagRow> {
    let row = sqlx::query(
        r#"UPDATE flags SET name = ?2, description = ?3, kind = ?4, variations = ?5, tags = ?6,
               maintainer = ?7, is_temporary = ?8, using_mobile_key = ?9,
               using_environment_id = ?10, updated_at = ?11
           WHERE id = ?1
           RETURNING id, project_id, key, name, description, kind, variations, tags,
                     maintainer, is_temporary, using_mobile_key, using_environment_id,
                     is_archived, created_at, updated_at"#,
    )
    .bind(values::id(id))
    .bind(fields.name)
    .bind(fields.description)
    .bind(fields.kind)
    .bind(values::json(fields.variations)?)
    .bind(values::texts(fields.tags))
    .bind(fields.maintainer)
    .bind(fields.is_temporary)
    .bind(fields.using_mobile_key)
    .bind(fields.using_environment_id)
    .bind(values::micros(crate::store::now()))
    .fetch_one(connection)
    .await?;
    flag(&row)
}

pub(super) async fn set_archived(
    connection: &mut SqliteConnection,
    id: Uuid,
    is_archived: bool,
) -> StoreResult<()> {
    sqlx::query(r#"UPDATE flags SET is_archived = ?2, updated_at = ?3 WHERE id = ?1"#)
        .bind(values::id(id))
        .bind(is_archived)
        .bind(values::micros(crate::store::now()))
        .execute(connection)
        .await?;
    Ok(())
}

/// Deletes the flag and, by cascade, its targeting, approvals and scheduled changes.
pub(super) async fn delete(connection: &mut SqliteConnection, id: Uuid) -> StoreResult<()> {
    sqlx::query(r#"DELETE FROM flags WHERE id = ?1"#)
        .bind(values::id(id))
        .execute(connection)
        .await?;
    Ok(())
}

/// The project's temporary, unarchived flags created before `cutoff`, by key.
pub(super) async fn temporary_created_before(
    connection: &mut SqliteConnection,
    project_id: Uuid,
    cutoff: OffsetDateTime,
) -> StoreResult<Vec<StaleCandidate>> {
    let rows = sqlx::query(
        r#"SELECT key, name, created_at FROM flags
           WHERE project_id = ?1 AND is_temporary = 1 AND is_archived = 0 AND created_at < ?2
           ORDER BY key"#,
    )
    .bind(values::id(project_id))
    .bind(values::micros(cutoff))
    .fetch_all(connection)
    .await?;
    rows.iter()
        .map(|row| {
            let columns = Columns::of(row, "flags");
            Ok(StaleCandidate {
                key: columns.text("key")?,
                name: columns.text("name")?,
                created_at: columns.time("created_at")?,
            })
        })
        .collect()
}

/// A `flags` row; also read from joins, where the flag's columns keep their names.
pub(super) fn flag(row: &SqliteRow) -> StoreResult<FlagRow> {
    let columns = Columns::of(row, "flags");
    Ok(FlagRow {
        id: columns.uuid("id")?,
        project_id: columns.uuid("project_id")?,
        key: columns.text("key")?,
        name: columns.text("name")?,
        description: columns.text("description")?,
        kind: columns.text("kind")?,
        variations: Json(columns.json("variations")?),
        tags: columns.texts("tags")?,
        maintainer: columns.optional_text("maintainer")?,
        is_temporary: columns.boolean("is_temporary")?,
        using_mobile_key: columns.boolean("using_mobile_key")?,
        using_environment_id: columns.boolean("using_environment_id")?,
        is_archived: columns.boolean("is_archived")?,
        created_at: columns.time("created_at")?,
        updated_at: columns.time("updated_at")?,
    })
}
