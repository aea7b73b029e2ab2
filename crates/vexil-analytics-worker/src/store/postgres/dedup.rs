//! `analytics.seen_payloads`: which (payload id, index) pairs were already counted, so a
//! payload an SDK retried (and ingest therefore produced twice) is counted once.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use sqlx::{PgConnection, PgPool};

use crate::store::batch::PayloadKey;

/// Records the keys and returns those that were not recorded before.
pub async fn claim(
    connection: &mut PgConnection,
    keys: &BTreeSet<PayloadKey>,
) -> Result<HashSet<PayloadKey>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let (payload_ids, indexes): (Vec<String>, Vec<i32>) = keys.iter().cloned().unzip();
    let rows = sqlx::query!(
        r#"
        INSERT INTO analytics.seen_payloads (payload_id, index_in_payload)
        SELECT * FROM UNNEST($1::text[], $2::int4[])
        ON CONFLICT DO NOTHING
        RETURNING payload_id, index_in_payload
        "#,
        &payload_ids,
        &indexes
    )
    .fetch_all(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.payload_id, row.index_in_payload))
        .collect())
}

/// Forgets keys recorded more than `retention` ago; returns how many.
pub async fn prune(pool: &PgPool, retention: Duration) -> Result<u64, sqlx::Error> {
    let seconds = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
    let result = sqlx::query!(
        "DELETE FROM analytics.seen_payloads WHERE seen_at < now() - $1::int8 * INTERVAL '1 second'",
        seconds
    )
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}
