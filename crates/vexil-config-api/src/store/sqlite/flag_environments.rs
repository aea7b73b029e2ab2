//! `flag_environments`: a flag's targeting in each environment, and the flags of an
//! environment as SDKs receive them.

use sqlx::sqlite::SqliteRow;
use sqlx::types::Json;
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::flags::flag;
use super::values::{self, Columns};
use crate::store::rows::FlagEnvironmentRow;
use crate::store::StoreResult;

/// The flag's targeting in every environment, in the environments' creation order.
pub(super) async fn list(
    connection: &mut SqliteConnection,
    flag_id: Uuid,
) -> StoreResult<Vec<FlagEnvironmentRow>> {
    let rows = sqlx::query(
        r#"SELECT fe.environment_id, e.key AS environment_key, fe.version, fe.config,
                  fe.updated_at
           FROM flag_environments fe JOIN environments e ON e.id = fe.environment_id
           WHERE fe.flag_id = ?1 ORDER BY e.created_at, e.key"#,
    )
    .bind(values::id(flag_id))
    .fetch_all(connection)
    .await?;
    rows.iter().map(flag_environment).collect()
}

/// As `list`, in environment id order: the order PostgreSQL locks them in, kept so both
/// stores answer alike.
pub(super) async fn list_by_environment_id(
    connection: &mut SqliteConnection,
    flag_id: Uuid,
) -> StoreResult<Vec<FlagEnvironmentRow>> {
    let rows = sqlx::query(
        r#"SELECT fe.environment_id, e.key AS environment_key, fe.version, fe.config,
                  fe.updated_at
           FROM flag_environments fe JOIN environments e ON e.id = fe.environment_id
           WHERE fe.flag_id = ?1 ORDER BY fe.environment_id"#,
    )
    .bind(values::id(flag_id))
    .fetch_all(connection)
    .await?;
    rows.iter().map(flag_environment).collect()
}

pub(super) async fn find(
    connection: &mut SqliteConnection,
    flag_id: Uuid,
    environment_id: Uuid,
) -> StoreResult<Option<FlagEnvironmentRow>> {
    let row = sqlx::query(
        r#"SELECT fe.environment_id, e.key AS environment_key, fe.version, fe.config,
                  fe.updated_at
           FROM flag_environments fe JOIN environments e ON e.id = fe.environment_id
           WHERE fe.flag_id = ?1 AND fe.environment_id = ?2"#,
    )
    .bind(values::id(flag_id))
    .bind(values::id(environment_id))
    .fetch_optional(connection)
    .await?;
    row.as_ref().map(flag_environment).transpose()
}

pub(super) async fn upsert(
    connection: &mut SqliteConnection,
    flag_id: Uuid,
    environment_id: Uuid,
    version: i64,
    config: &vexil_eval::Flag,
) -> StoreResult<()> {
    sqlx::query(
        r#"INSERT INTO flag_environments (flag_id, environment_id, version, config, updated_at)
           VALUES (?1, ?2, ?3, ?4, ?5)
           ON CONFLICT (flag_id, environment_id)
           DO UPDATE SET version = excluded.version, config = excluded.config,
                         updated_at = excluded.updated_at"#,
    )
    .bind(values::id(flag_id))
    .bind(values::id(environment_id))
    .bind(version)
    .bind(values::json(config)?)
    .bind(values::micros(crate::store::now()))
    .execute(connection)
    .await?;
    Ok(())
}

/// Every live (not archived) flag of an environment as SDKs receive it, by key.
pub(super) async fn sdk_flags(
    connection: &mut SqliteConnection,
    environment_id: Uuid,
) -> StoreResult<Vec<vexil_eval::Flag>> {
    let rows = sqlx::query(
        r#"SELECT f.id, f.project_id, f.key, f.name, f.description, f.kind, f.variations,
                  f.tags, f.maintainer, f.is_temporary, f.using_mobile_key,
                  f.using_environment_id, f.is_archived, f.created_at, f.updated_at,
                  fe.environment_id, e.key AS environment_key, fe.version, fe.config,
                  fe.updated_at AS config_updated_at
           FROM flag_environments fe
           JOIN flags f ON f.id = fe.flag_id
           JOIN environments e ON e.id = fe.environment_id
           WHERE fe.environment_id = ?1 AND f.is_archived = 0
           ORDER BY f.key"#,
    )
    .bind(values::id(environment_id))
    .fetch_all(connection)
    .await?;
    rows.iter()
        .map(|row| {
            let columns = Columns::of(row, "flag_environments");
            let environment = FlagEnvironmentRow {
                environment_id: columns.uuid("environment_id")?,
                environment_key: Columns::of(row, "environments").text("environment_key")?,
                version: positive_version(&columns)?,
                config: Json(columns.json("config")?),
                updated_at: columns.time("config_updated_at")?,
            };
            Ok(flag(row)?.sdk_flag(&environment))
        })
        .collect()
}

fn flag_environment(row: &SqliteRow) -> StoreResult<FlagEnvironmentRow> {
    let columns = Columns::of(row, "flag_environments");
    Ok(FlagEnvironmentRow {
        environment_id: columns.uuid("environment_id")?,
        environment_key: Columns::of(row, "environments").text("environment_key")?,
        version: positive_version(&columns)?,
        config: Json(columns.json("config")?),
        updated_at: columns.time("updated_at")?,
    })
}

/// `version`, which the schema keeps positive (`FlagRow::sdk_flag` relies on it).
fn positive_version(columns: &Columns<'_>) -> StoreResult<i64> {
    let version = columns.integer("version")?;
    if version > 0 {
        Ok(version)
    } else {
        Err(columns.corrupt("version"))
    }
}
