//! `config.flags` (project-level fields) and `config.flag_environments` (targeting per
//! environment), plus the tombstones that keep versions monotonic across deletion.

use sqlx::types::Json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::store::kinds::ItemKind;
use crate::store::params::{FlagFields, FlagFilter};
use crate::store::rows::{FlagEnvironmentRow, FlagRow, StaleCandidate, Variation};
use crate::store::StoreError;

pub async fn find(
    connection: &mut PgConnection,
    project_id: Uuid,
    key: &str,
) -> Result<Option<FlagRow>, StoreError> {
    sqlx::query_as!(
        FlagRow,
        r#"SELECT id, project_id, key, name, description, kind,
                  variations AS "variations: Json<Vec<Variation>>", tags, maintainer,
                  is_temporary, using_mobile_key, using_environment_id, is_archived,
                  created_at, updated_at
           FROM config.flags WHERE project_id = $1 AND key = $2"#,
        project_id,
        key
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

/// As `find`, locking the row until the transaction ends, so concurrent writers of the
/// same flag queue instead of overwriting each other.
pub async fn find_for_update(
    connection: &mut PgConnection,
    project_id: Uuid,
    key: &str,
) -> Result<Option<FlagRow>, StoreError> {
    sqlx::query_as!(
        FlagRow,
        r#"SELECT id, project_id, key, name, description, kind,
                  variations AS "variations: Json<Vec<Variation>>", tags, maintainer,
                  is_temporary, using_mobile_key, using_environment_id, is_archived,
                  created_at, updated_at
           FROM config.flags WHERE project_id = $1 AND key = $2 FOR UPDATE"#,
        project_id,
        key
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

/// One page of flags ordered by key, and the total matching the filter.
pub async fn list(
    connection: &mut PgConnection,
    project_id: Uuid,
    filter: &FlagFilter,
) -> Result<(Vec<FlagRow>, i64), StoreError> {
    let pattern = filter.text_pattern();
    let rows = sqlx::query_as!(
        FlagRow,
        r#"SELECT id, project_id, key, name, description, kind,
                  variations AS "variations: Json<Vec<Variation>>", tags, maintainer,
                  is_temporary, using_mobile_key, using_environment_id, is_archived,
                  created_at, updated_at
           FROM config.flags
           WHERE project_id = $1
             AND ($2::text IS NULL OR $2 = ANY(tags))
             AND ($3::text IS NULL OR key ILIKE $3 OR name ILIKE $3 OR description ILIKE $3)
             AND ($4::boolean IS NULL OR is_archived = $4)
           ORDER BY key LIMIT $5 OFFSET $6"#,
        project_id,
        filter.tag,
        pattern,
        filter.is_archived,
        filter.limit,
        filter.offset,
    )
    .fetch_all(&mut *connection)
    .await?;
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM config.flags
           WHERE project_id = $1
             AND ($2::text IS NULL OR $2 = ANY(tags))
             AND ($3::text IS NULL OR key ILIKE $3 OR name ILIKE $3 OR description ILIKE $3)
             AND ($4::boolean IS NULL OR is_archived = $4)"#,
        project_id,
        filter.tag,
        pattern,
        filter.is_archived,
    )
    .fetch_one(connection)
    .await?;
    Ok((rows, total))
}

/// Every flag of a project, archived or not.
pub async fn list_for_project(
    connection: &mut PgConnection,
    project_id: Uuid,
) -> Result<Vec<FlagRow>, StoreError> {
    sqlx::query_as!(
        FlagRow,
        r#"SELECT id, project_id, key, name, description, kind,
                  variations AS "variations: Json<Vec<Variation>>", tags, maintainer,
                  is_temporary, using_mobile_key, using_environment_id, is_archived,
                  created_at, updated_at
           FROM config.flags WHERE project_id = $1 ORDER BY key"#,
        project_id
    )
    .fetch_all(connection)
    .await
    .map_err(StoreError::from)
}

/// Inserts a flag; `None` when the project already has the key.
pub async fn insert(
    connection: &mut PgConnection,
    project_id: Uuid,
    key: &str,
    fields: &FlagFields<'_>,
) -> Result<Option<FlagRow>, StoreError> {
    let now = crate::store::now();
    sqlx::query_as!(
        FlagRow,
        r#"INSERT INTO config.flags (id, project_id, key, name, description, kind, variations, tags,
               maintainer, is_temporary, using_mobile_key, using_environment_id, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
           ON CONFLICT (project_id, key) DO NOTHING
           RETURNING id, project_id, key, name, description, kind,
                     variations AS "variations: Json<Vec<Variation>>", tags, maintainer,
                     is_temporary, using_mobile_key, using_environment_id, is_archived,
                     created_at, updated_at"#,
        Uuid::new_v4(),
        project_id,
        key,
        fields.name,
        fields.description,
        fields.kind,
        Json(fields.variations) as _,
        fields.tags,
        fields.maintainer,
        fields.is_temporary,
        fields.using_mobile_key,
        fields.using_environment_id,
        now,
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn update(
    connection: &mut PgConnection,
    id: Uuid,
    fields: &FlagFields<'_>,
) -> Result<FlagRow, StoreError> {
    sqlx::query_as!(
        FlagRow,
        r#"UPDATE config.flags SET name = $2, description = $3, kind = $4, variations = $5,
               tags = $6, maintainer = $7, is_temporary = $8, using_mobile_key = $9,
               using_environment_id = $10, updated_at = $11
           WHERE id = $1
           RETURNING id, project_id, key, name, description, kind,
                     variations AS "variations: Json<Vec<Variation>>", tags, maintainer,
                     is_temporary, using_mobile_key, using_environment_id, is_archived,
                     created_at, updated_at"#,
        id,
        fields.name,
        fields.description,
        fields.kind,
        Json(fields.variations) as _,
        fields.tags,
        fields.maintainer,
        fields.is_temporary,
        fields.using_mobile_key,
        fields.using_environment_id,
        crate::store::now(),
    )
    .fetch_one(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn set_archived(
    connection: &mut PgConnection,
    id: Uuid,
    is_archived: bool,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE config.flags SET is_archived = $2, updated_at = $3 WHERE id = $1",
        id,
        is_archived,
        crate::store::now()
    )
    .execute(connection)
    .await?;
    Ok(())
}

pub async fn delete(connection: &mut PgConnection, id: Uuid) -> Result<(), StoreError> {
    sqlx::query!("DELETE FROM config.flags WHERE id = $1", id)
        .execute(connection)
        .await?;
    Ok(())
}

/// The flag's targeting in every environment, locked for update, in environment id order
/// (the order every multi-environment writer locks in).
pub async fn environment_configs_for_update(
    connection: &mut PgConnection,
    flag_id: Uuid,
) -> Result<Vec<FlagEnvironmentRow>, StoreError> {
    sqlx::query_as!(
        FlagEnvironmentRow,
        r#"SELECT fe.environment_id, e.key AS environment_key, fe.version,
                  fe.config AS "config: Json<vexil_eval::Flag>", fe.updated_at
           FROM config.flag_environments fe JOIN config.environments e ON e.id = fe.environment_id
           WHERE fe.flag_id = $1 ORDER BY fe.environment_id FOR UPDATE OF fe"#,
        flag_id
    )
    .fetch_all(connection)
    .await
    .map_err(StoreError::from)
}

/// The flag's targeting in every environment.
pub async fn environment_configs(
    connection: &mut PgConnection,
    flag_id: Uuid,
) -> Result<Vec<FlagEnvironmentRow>, StoreError> {
    sqlx::query_as!(
        FlagEnvironmentRow,
        r#"SELECT fe.environment_id, e.key AS environment_key, fe.version,
                  fe.config AS "config: Json<vexil_eval::Flag>", fe.updated_at
           FROM config.flag_environments fe JOIN config.environments e ON e.id = fe.environment_id
           WHERE fe.flag_id = $1 ORDER BY e.created_at, e.key"#,
        flag_id
    )
    .fetch_all(connection)
    .await
    .map_err(StoreError::from)
}

/// The flag's targeting in one environment.
pub async fn environment_config(
    connection: &mut PgConnection,
    flag_id: Uuid,
    environment_id: Uuid,
) -> Result<Option<FlagEnvironmentRow>, StoreError> {
    sqlx::query_as!(
        FlagEnvironmentRow,
        r#"SELECT fe.environment_id, e.key AS environment_key, fe.version,
                  fe.config AS "config: Json<vexil_eval::Flag>", fe.updated_at
           FROM config.flag_environments fe JOIN config.environments e ON e.id = fe.environment_id
           WHERE fe.flag_id = $1 AND fe.environment_id = $2"#,
        flag_id,
        environment_id
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

/// The flag's targeting in one environment, locked for update.
pub async fn environment_config_for_update(
    connection: &mut PgConnection,
    flag_id: Uuid,
    environment_id: Uuid,
) -> Result<Option<FlagEnvironmentRow>, StoreError> {
    sqlx::query_as!(
        FlagEnvironmentRow,
        r#"SELECT fe.environment_id, e.key AS environment_key, fe.version,
                  fe.config AS "config: Json<vexil_eval::Flag>", fe.updated_at
           FROM config.flag_environments fe JOIN config.environments e ON e.id = fe.environment_id
           WHERE fe.flag_id = $1 AND fe.environment_id = $2 FOR UPDATE OF fe"#,
        flag_id,
        environment_id
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn upsert_environment_config(
    connection: &mut PgConnection,
    flag_id: Uuid,
    environment_id: Uuid,
    version: i64,
    config: &vexil_eval::Flag,
) -> Result<(), StoreError> {
    sqlx::query!(
        r#"INSERT INTO config.flag_environments (flag_id, environment_id, version, config, updated_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (flag_id, environment_id)
           DO UPDATE SET version = EXCLUDED.version, config = EXCLUDED.config,
                         updated_at = EXCLUDED.updated_at"#,
        flag_id,
        environment_id,
        version,
        Json(config) as _,
        crate::store::now(),
    )
    .execute(connection)
    .await?;
    Ok(())
}

/// Every live (not archived) flag of an environment as SDKs receive it.
pub async fn sdk_flags(
    connection: &mut PgConnection,
    environment_id: Uuid,
) -> Result<Vec<vexil_eval::Flag>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT f.id, f.project_id, f.key, f.name, f.description, f.kind,
                  f.variations AS "variations: Json<Vec<Variation>>", f.tags, f.maintainer,
                  f.is_temporary, f.using_mobile_key, f.using_environment_id, f.is_archived,
                  f.created_at, f.updated_at,
                  fe.environment_id, e.key AS environment_key, fe.version,
                  fe.config AS "config: Json<vexil_eval::Flag>", fe.updated_at AS config_updated_at
           FROM config.flag_environments fe
           JOIN config.flags f ON f.id = fe.flag_id
           JOIN config.environments e ON e.id = fe.environment_id
           WHERE fe.environment_id = $1 AND NOT f.is_archived
           ORDER BY f.key"#,
        environment_id
    )
    .fetch_all(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let flag = FlagRow {
                id: row.id,
                project_id: row.project_id,
                key: row.key,
                name: row.name,
                description: row.description,
                kind: row.kind,
                variations: row.variations,
                tags: row.tags,
                maintainer: row.maintainer,
                is_temporary: row.is_temporary,
                using_mobile_key: row.using_mobile_key,
                using_environment_id: row.using_environment_id,
                is_archived: row.is_archived,
                created_at: row.created_at,
                updated_at: row.updated_at,
            };
            flag.sdk_flag(&FlagEnvironmentRow {
                environment_id: row.environment_id,
                environment_key: row.environment_key,
                version: row.version,
                config: row.config,
                updated_at: row.config_updated_at,
            })
        })
        .collect())
}

/// Removes and returns the tombstone version of a deleted key, if any.
pub async fn take_tombstone(
    connection: &mut PgConnection,
    environment_id: Uuid,
    kind: ItemKind,
    key: &str,
) -> Result<Option<i64>, StoreError> {
    sqlx::query_scalar!(
        r#"DELETE FROM config.tombstones WHERE environment_id = $1 AND item_kind = $2 AND key = $3
           RETURNING version"#,
        environment_id,
        kind.as_str(),
        key
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

pub async fn put_tombstone(
    connection: &mut PgConnection,
    environment_id: Uuid,
    kind: ItemKind,
    key: &str,
    version: i64,
) -> Result<(), StoreError> {
    sqlx::query!(
        r#"INSERT INTO config.tombstones (environment_id, item_kind, key, version)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (environment_id, item_kind, key) DO UPDATE SET version = EXCLUDED.version"#,
        environment_id,
        kind.as_str(),
        key,
        version
    )
    .execute(connection)
    .await?;
    Ok(())
}

/// The project's temporary, unarchived flags created before `cutoff`, by key.
pub async fn temporary_created_before(
    connection: &mut PgConnection,
    project_id: Uuid,
    cutoff: OffsetDateTime,
) -> Result<Vec<StaleCandidate>, StoreError> {
    sqlx::query_as!(
        StaleCandidate,
        r#"SELECT key, name, created_at FROM config.flags
           WHERE project_id = $1 AND is_temporary AND NOT is_archived AND created_at < $2
           ORDER BY key"#,
        project_id,
        cutoff,
    )
    .fetch_all(connection)
    .await
    .map_err(StoreError::from)
}
