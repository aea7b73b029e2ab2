//! `analytics.consumer_offsets`: the next offset to process per topic partition, advanced
//! in the same transaction as the aggregates of the records before it.

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool};

/// Every stored offset of `topic`, by partition.
pub async fn load(pool: &PgPool, topic: &str) -> Result<HashMap<i32, i64>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT partition, next_offset FROM analytics.consumer_offsets WHERE topic = $1",
        topic
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.partition, row.next_offset))
        .collect())
}

/// Moves the partition's offset to `next_offset` when the batch starts exactly where the
/// stored offset points (or nothing is stored yet), and locks the row until the transaction
/// ends. False otherwise: another consumer (or an earlier life of this one) committed part
/// of the batch, or records between the stored offset and the batch were never seen here
/// (a prefetched record arriving after a seek, say). Either way the batch is dropped and
/// consumption resumes at [`stored`], so no offset ever moves past an unprocessed record.
pub async fn advance(
    connection: &mut PgConnection,
    topic: &str,
    partition: i32,
    first_offset: i64,
    next_offset: i64,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query_scalar!(
        r#"
        INSERT INTO analytics.consumer_offsets AS stored (topic, partition, next_offset)
        VALUES ($1, $2, $4)
        ON CONFLICT (topic, partition) DO UPDATE
            SET next_offset = EXCLUDED.next_offset, updated_at = now()
            WHERE stored.next_offset = $3
        RETURNING next_offset
        "#,
        topic,
        partition,
        first_offset,
        next_offset
    )
    .fetch_optional(connection)
    .await?;
    Ok(row.is_some())
}

/// The partition's stored offset, if any.
pub async fn stored(
    connection: &mut PgConnection,
    topic: &str,
    partition: i32,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT next_offset FROM analytics.consumer_offsets WHERE topic = $1 AND partition = $2",
        topic,
        partition
    )
    .fetch_optional(connection)
    .await
}
