//! Writes a batch's evaluation counts, last-evaluated times, distinct-context sketches,
//! contexts seen and custom-event totals: one prepared statement per table, run once per
//! row (SQLite has no array parameters, and a statement in an open transaction is cheap).

use sqlx::SqliteConnection;

use crate::aggregate::BatchAggregates;
use crate::stats::hll::HyperLogLog;

/// Applies everything but the experiment tables. `partition` scopes the sketches.
pub async fn apply(
    connection: &mut SqliteConnection,
    partition: i32,
    batch: &BatchAggregates,
) -> Result<(), sqlx::Error> {
    evaluations(connection, batch).await?;
    last_evaluated(connection, batch).await?;
    sketches(connection, partition, batch).await?;
    contexts(connection, batch).await?;
    custom_events(connection, batch).await
}

async fn evaluations(
    connection: &mut SqliteConnection,
    batch: &BatchAggregates,
) -> Result<(), sqlx::Error> {
    for (key, count) in &batch.evaluations {
        sqlx::query(
            r#"
            INSERT INTO evaluations
                (environment_id, flag_key, variation, flag_version, bucket_start_ms, count)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            ON CONFLICT (environment_id, flag_key, bucket_start_ms, variation, flag_version)
                DO UPDATE SET count = count + excluded.count
            "#,
        )
        .bind(key.environment_id.hyphenated())
        .bind(&key.flag_key)
        .bind(key.variation)
        .bind(key.flag_version)
        .bind(clamped(key.bucket_start_ms))
        .bind(count)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

async fn last_evaluated(
    connection: &mut SqliteConnection,
    batch: &BatchAggregates,
) -> Result<(), sqlx::Error> {
    for ((environment_id, flag_key), at) in &batch.last_evaluated {
        sqlx::query(
            r#"
            INSERT INTO flag_last_evaluated (environment_id, flag_key, last_evaluated_at_ms)
            VALUES (?1, ?2, ?3)
            ON CONFLICT (environment_id, flag_key) DO UPDATE
                SET last_evaluated_at_ms = max(last_evaluated_at_ms, excluded.last_evaluated_at_ms)
            "#,
        )
        .bind(environment_id.hyphenated())
        .bind(flag_key)
        .bind(clamped(*at))
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

/// Read, merge, write. Safe without further locks: the transaction holds the file's only
/// write lock.
async fn sketches(
    connection: &mut SqliteConnection,
    partition: i32,
    batch: &BatchAggregates,
) -> Result<(), sqlx::Error> {
    for ((environment_id, flag_key, day), sketch) in &batch.sketches {
        let stored: Option<Vec<u8>> = sqlx::query_scalar(
            r#"
            SELECT sketch FROM flag_context_sketches
            WHERE environment_id = ?1 AND flag_key = ?2 AND day = ?3 AND "partition" = ?4
            "#,
        )
        .bind(environment_id.hyphenated())
        .bind(flag_key)
        .bind(day)
        .bind(partition)
        .fetch_optional(&mut *connection)
        .await?;
        let mut merged = sketch.clone();
        // A sketch that does not decode (never written by this code) is replaced.
        if let Some(Ok(old)) = stored.as_deref().map(HyperLogLog::from_bytes) {
            merged.merge(&old);
        }
        sqlx::query(
            r#"
            INSERT INTO flag_context_sketches (environment_id, flag_key, day, "partition", sketch)
            VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT (environment_id, flag_key, day, "partition")
                DO UPDATE SET sketch = excluded.sketch
            "#,
        )
        .bind(environment_id.hyphenated())
        .bind(flag_key)
        .bind(day)
        .bind(partition)
        .bind(merged.as_bytes())
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

async fn contexts(
    connection: &mut SqliteConnection,
    batch: &BatchAggregates,
) -> Result<(), sqlx::Error> {
    for ((environment_id, kind, key), update) in &batch.contexts {
        if update.may_insert {
            sqlx::query(
                r#"
                INSERT INTO contexts (environment_id, kind, key, name, last_seen_at_ms)
                VALUES (?1, ?2, ?3, ?4, ?5)
                ON CONFLICT (environment_id, kind, key) DO UPDATE SET
                    name = CASE WHEN excluded.last_seen_at_ms >= last_seen_at_ms
                        THEN COALESCE(excluded.name, name) ELSE name END,
                    last_seen_at_ms = max(last_seen_at_ms, excluded.last_seen_at_ms)
                "#,
            )
            .bind(environment_id.hyphenated())
            .bind(kind)
            .bind(key)
            .bind(&update.name)
            .bind(clamped(update.last_seen_ms))
            .execute(&mut *connection)
            .await?;
        } else {
            // Known only by `contextKeys`: refreshes an entry, never adds one.
            sqlx::query(
                r#"
                UPDATE contexts SET last_seen_at_ms = max(last_seen_at_ms, ?4)
                WHERE environment_id = ?1 AND kind = ?2 AND key = ?3
                "#,
            )
            .bind(environment_id.hyphenated())
            .bind(kind)
            .bind(key)
            .bind(clamped(update.last_seen_ms))
            .execute(&mut *connection)
            .await?;
        }
    }
    Ok(())
}

async fn custom_events(
    connection: &mut SqliteConnection,
    batch: &BatchAggregates,
) -> Result<(), sqlx::Error> {
    for ((environment_id, event_key, bucket), totals) in &batch.custom_events {
        sqlx::query(
            r#"
            INSERT INTO custom_events
                (environment_id, event_key, bucket_start_ms, count, value_count, value_sum)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            ON CONFLICT (environment_id, event_key, bucket_start_ms) DO UPDATE SET
                count = count + excluded.count,
                value_count = value_count + excluded.value_count,
                value_sum = value_sum + excluded.value_sum
            "#,
        )
        .bind(environment_id.hyphenated())
        .bind(event_key)
        .bind(clamped(*bucket))
        .bind(totals.count)
        .bind(totals.value_count)
        .bind(totals.value_sum)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

/// An event time as stored: clamped to years 1970-9999, as on PostgreSQL (`time_of`).
pub(super) fn clamped(unix_ms: i64) -> i64 {
    crate::store::unix_ms(crate::store::time_of(unix_ms))
}
