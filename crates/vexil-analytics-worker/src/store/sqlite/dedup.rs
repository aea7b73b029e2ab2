//! `seen_payloads`: which (payload id, index) pairs were already counted, so a payload an
//! SDK retried (and ingest therefore produced twice) is counted once.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use sqlx::{SqliteConnection, SqlitePool};

use super::now_ms;
use crate::store::batch::PayloadKey;

/// Records the keys and returns those that were not recorded before.
pub async fn claim(
    connection: &mut SqliteConnection,
    keys: &BTreeSet<PayloadKey>,
    now_ms: i64,
) -> Result<HashSet<PayloadKey>, sqlx::Error> {
    let mut fresh = HashSet::new();
    for key in keys {
        let inserted = sqlx::query(
            r#"
            INSERT INTO seen_payloads (payload_id, index_in_payload, seen_at_ms)
            VALUES (?1, ?2, ?3)
            ON CONFLICT DO NOTHING
            "#,
        )
        .bind(&key.0)
        .bind(key.1)
        .bind(now_ms)
        .execute(&mut *connection)
        .await?;
        if inserted.rows_affected() == 1 {
            fresh.insert(key.clone());
        }
    }
    Ok(fresh)
}

/// Forgets keys recorded more than `retention` ago; returns how many.
pub async fn prune(writer: &SqlitePool, retention: Duration) -> Result<u64, sqlx::Error> {
    let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    let result = sqlx::query("DELETE FROM seen_payloads WHERE seen_at_ms < ?1")
        .bind(now_ms().saturating_sub(retention_ms))
        .execute(writer)
        .await?;
    Ok(result.rows_affected())
}
