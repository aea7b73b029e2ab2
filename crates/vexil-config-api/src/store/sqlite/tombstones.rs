//! `tombstones`: the version a deleted flag or segment had, so a re-created key continues
//! above it (spec 5.5).

use sqlx::SqliteConnection;
use uuid::Uuid;

use super::values::{self, Columns};
use crate::store::kinds::ItemKind;
use crate::store::StoreResult;

/// Removes and returns the tombstone version of a deleted key, if any.
pub(super) async fn take(
    connection: &mut SqliteConnection,
    environment_id: Uuid,
    kind: ItemKind,
    key: &str,
) -> StoreResult<Option<i64>> {
    let row = sqlx::query(
        r#"DELETE FROM tombstones WHERE environment_id = ?1 AND item_kind = ?2 AND key = ?3
           RETURNING version"#,
    )
    .bind(values::id(environment_id))
    .bind(kind.as_str())
    .bind(key)
    .fetch_optional(connection)
    .await?;
    row.map(|row| Columns::of(&row, "tombstones").integer("version"))
        .transpose()
}

/// Records (or overwrites) the version a deleted key had.
pub(super) async fn put(
    connection: &mut SqliteConnection,
    environment_id: Uuid,
    kind: ItemKind,
    key: &str,
    version: i64,
) -> StoreResult<()> {
    sqlx::query(
        r#"INSERT INTO tombstones (environment_id, item_kind, key, version)
           VALUES (?1, ?2, ?3, ?4)
           ON CONFLICT (environment_id, item_kind, key) DO UPDATE SET version = excluded.version"#,
    )
    .bind(values::id(environment_id))
    .bind(kind.as_str())
    .bind(key)
    .bind(version)
    .execute(connection)
    .await?;
    Ok(())
}
