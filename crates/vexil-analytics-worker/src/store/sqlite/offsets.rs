//! `consumer_offsets`: the next offset to process per topic partition, advanced in the same
//! transaction as the aggregates of the records before it. The guard is the PostgreSQL
//! store's (`store/postgres/offsets.rs`), in SQLite's upsert.

use std::collections::HashMap;

use sqlx::{SqliteConnection, SqlitePool};

use crate::store::StoreError;

/// Every stored offset of `topic`, by partition.
pub async fn load(reader: &SqlitePool, topic: &str) -> Result<HashMap<i32, i64>, StoreError> {
    let rows: Vec<(i64, i64)> =
        sqlx::query_as(r#"SELECT "partition", next_offset FROM consumer_offsets WHERE topic = ?1"#)
            .bind(topic)
            .fetch_all(reader)
            .await?;
    rows.into_iter()
        .map(|(partition, next_offset)| {
            let partition = i32::try_from(partition).map_err(|_| StoreError::Corrupt {
                table: "consumer_offsets",
                column: "partition",
            })?;
            Ok((partition, next_offset))
        })
        .collect()
}

/// Moves the partition's offset to `next_offset` when the batch starts exactly where the
/// stored offset points (or nothing is stored yet). False otherwise: the batch is dropped
/// and consumption resumes at [`stored`]. An upsert whose `WHERE` is false changes no row
/// and returns none.
pub async fn advance(
    connection: &mut SqliteConnection,
    topic: &str,
    partition: i32,
    first_offset: i64,
    next_offset: i64,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let row: Option<i64> = sqlx::query_scalar(
        r#"
        INSERT INTO consumer_offsets (topic, "partition", next_offset, updated_at_ms)
        VALUES (?1, ?2, ?4, ?5)
        ON CONFLICT (topic, "partition") DO UPDATE
            SET next_offset = excluded.next_offset, updated_at_ms = excluded.updated_at_ms
            WHERE consumer_offsets.next_offset = ?3
        RETURNING next_offset
        "#,
    )
    .bind(topic)
    .bind(partition)
    .bind(first_offset)
    .bind(next_offset)
    .bind(now_ms)
    .fetch_optional(connection)
    .await?;
    Ok(row.is_some())
}

/// The partition's stored offset, if any.
pub async fn stored(
    connection: &mut SqliteConnection,
    topic: &str,
    partition: i32,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        r#"SELECT next_offset FROM consumer_offsets WHERE topic = ?1 AND "partition" = ?2"#,
    )
    .bind(topic)
    .bind(partition)
    .fetch_optional(connection)
    .await
}
