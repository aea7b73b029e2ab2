//! Writes a batch's evaluation counts, last-evaluated times, distinct-context sketches,
//! contexts seen and custom-event totals. Each table gets one statement per batch.

// Rows travel as one array per column (`UNNEST($1::uuid[], ...)`), so the column tuples
// are spelled out where they are built.
#![allow(clippy::type_complexity)]

use sqlx::PgConnection;
use uuid::Uuid;

use crate::aggregate::BatchAggregates;
use crate::stats::hll::HyperLogLog;
use crate::store::{date_of, time_of};

/// Applies everything but the experiment tables. `partition` scopes the sketches.
pub async fn apply(
    connection: &mut PgConnection,
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
    connection: &mut PgConnection,
    batch: &BatchAggregates,
) -> Result<(), sqlx::Error> {
    if batch.evaluations.is_empty() {
        return Ok(());
    }
    let mut columns = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for (key, count) in &batch.evaluations {
        columns.0.push(key.environment_id);
        columns.1.push(key.flag_key.clone());
        columns.2.push(key.variation);
        columns.3.push(key.flag_version);
        columns.4.push(time_of(key.bucket_start_ms));
        columns.5.push(*count);
    }
    sqlx::query!(
        r#"
        INSERT INTO analytics.evaluations AS e
            (environment_id, flag_key, variation, flag_version, bucket_start, count)
        SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int4[], $4::int8[], $5::timestamptz[], $6::int8[])
        ON CONFLICT (environment_id, flag_key, bucket_start, variation, flag_version)
            DO UPDATE SET count = e.count + EXCLUDED.count
        "#,
        &columns.0,
        &columns.1,
        &columns.2,
        &columns.3,
        &columns.4,
        &columns.5
    )
    .execute(connection)
    .await?;
    Ok(())
}

async fn last_evaluated(
    connection: &mut PgConnection,
    batch: &BatchAggregates,
) -> Result<(), sqlx::Error> {
    if batch.last_evaluated.is_empty() {
        return Ok(());
    }
    let mut columns = (Vec::new(), Vec::new(), Vec::new());
    for ((environment_id, flag_key), at) in &batch.last_evaluated {
        columns.0.push(*environment_id);
        columns.1.push(flag_key.clone());
        columns.2.push(time_of(*at));
    }
    sqlx::query!(
        r#"
        INSERT INTO analytics.flag_last_evaluated AS l (environment_id, flag_key, last_evaluated_at)
        SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[])
        ON CONFLICT (environment_id, flag_key)
            DO UPDATE SET last_evaluated_at = GREATEST(l.last_evaluated_at, EXCLUDED.last_evaluated_at)
        "#,
        &columns.0,
        &columns.1,
        &columns.2
    )
    .execute(connection)
    .await?;
    Ok(())
}

/// Read, merge, write. Safe without further locks: the partition's sketches are only
/// touched by the transaction holding the partition's offset row.
async fn sketches(
    connection: &mut PgConnection,
    partition: i32,
    batch: &BatchAggregates,
) -> Result<(), sqlx::Error> {
    if batch.sketches.is_empty() {
        return Ok(());
    }
    let mut merged = batch.sketches.clone();
    let mut keys = (Vec::new(), Vec::new(), Vec::new());
    for (environment_id, flag_key, day) in merged.keys() {
        keys.0.push(*environment_id);
        keys.1.push(flag_key.clone());
        keys.2.push(date_of(*day));
    }
    let stored = sqlx::query!(
        r#"
        SELECT s.environment_id, s.flag_key, s.day, s.sketch
        FROM analytics.flag_context_sketches s
        JOIN UNNEST($1::uuid[], $2::text[], $3::date[]) AS k (environment_id, flag_key, day)
            ON s.environment_id = k.environment_id AND s.flag_key = k.flag_key AND s.day = k.day
        WHERE s.partition = $4
        "#,
        &keys.0,
        &keys.1,
        &keys.2,
        partition
    )
    .fetch_all(&mut *connection)
    .await?;
    for row in stored {
        let day = (row.day
            - time::Date::from_calendar_date(1970, time::Month::January, 1)
                .expect("the epoch is a date"))
        .whole_days();
        let key = (
            row.environment_id,
            row.flag_key,
            i32::try_from(day).unwrap_or(i32::MAX),
        );
        // A sketch that does not decode (never written by this code) is replaced.
        if let (Some(sketch), Ok(old)) =
            (merged.get_mut(&key), HyperLogLog::from_bytes(&row.sketch))
        {
            sketch.merge(&old);
        }
    }
    let bytes: Vec<Vec<u8>> = merged
        .values()
        .map(|sketch| sketch.as_bytes().to_vec())
        .collect();
    sqlx::query!(
        r#"
        INSERT INTO analytics.flag_context_sketches AS s (environment_id, flag_key, day, partition, sketch)
        SELECT k.environment_id, k.flag_key, k.day, $4, k.sketch
        FROM UNNEST($1::uuid[], $2::text[], $3::date[], $5::bytea[]) AS k (environment_id, flag_key, day, sketch)
        ON CONFLICT (environment_id, flag_key, day, partition) DO UPDATE SET sketch = EXCLUDED.sketch
        "#,
        &keys.0,
        &keys.1,
        &keys.2,
        partition,
        &bytes
    )
    .execute(connection)
    .await?;
    Ok(())
}

async fn contexts(
    connection: &mut PgConnection,
    batch: &BatchAggregates,
) -> Result<(), sqlx::Error> {
    let mut inserts: (
        Vec<Uuid>,
        Vec<String>,
        Vec<String>,
        Vec<Option<String>>,
        Vec<_>,
    ) = Default::default();
    let mut refreshes: (Vec<Uuid>, Vec<String>, Vec<String>, Vec<_>) = Default::default();
    for ((environment_id, kind, key), update) in &batch.contexts {
        if update.may_insert {
            inserts.0.push(*environment_id);
            inserts.1.push(kind.clone());
            inserts.2.push(key.clone());
            inserts.3.push(update.name.clone());
            inserts.4.push(time_of(update.last_seen_ms));
        } else {
            refreshes.0.push(*environment_id);
            refreshes.1.push(kind.clone());
            refreshes.2.push(key.clone());
            refreshes.3.push(time_of(update.last_seen_ms));
        }
    }
    if !inserts.0.is_empty() {
        sqlx::query!(
            r#"
            INSERT INTO analytics.contexts AS c (environment_id, kind, key, name, last_seen_at)
            SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
            ON CONFLICT (environment_id, kind, key) DO UPDATE SET
                name = CASE WHEN EXCLUDED.last_seen_at >= c.last_seen_at
                    THEN COALESCE(EXCLUDED.name, c.name) ELSE c.name END,
                last_seen_at = GREATEST(c.last_seen_at, EXCLUDED.last_seen_at)
            "#,
            &inserts.0,
            &inserts.1,
            &inserts.2,
            &inserts.3 as &[Option<String>],
            &inserts.4
        )
        .execute(&mut *connection)
        .await?;
    }
    if !refreshes.0.is_empty() {
        sqlx::query!(
            r#"
            UPDATE analytics.contexts c SET last_seen_at = GREATEST(c.last_seen_at, u.last_seen_at)
            FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::timestamptz[])
                AS u (environment_id, kind, key, last_seen_at)
            WHERE c.environment_id = u.environment_id AND c.kind = u.kind AND c.key = u.key
            "#,
            &refreshes.0,
            &refreshes.1,
            &refreshes.2,
            &refreshes.3
        )
        .execute(connection)
        .await?;
    }
    Ok(())
}

async fn custom_events(
    connection: &mut PgConnection,
    batch: &BatchAggregates,
) -> Result<(), sqlx::Error> {
    if batch.custom_events.is_empty() {
        return Ok(());
    }
    let mut columns: (Vec<Uuid>, Vec<String>, Vec<_>, Vec<i64>, Vec<i64>, Vec<f64>) =
        Default::default();
    for ((environment_id, event_key, bucket), totals) in &batch.custom_events {
        columns.0.push(*environment_id);
        columns.1.push(event_key.clone());
        columns.2.push(time_of(*bucket));
        columns.3.push(totals.count);
        columns.4.push(totals.value_count);
        columns.5.push(totals.value_sum);
    }
    sqlx::query!(
        r#"
        INSERT INTO analytics.custom_events AS c
            (environment_id, event_key, bucket_start, count, value_count, value_sum)
        SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[], $4::int8[], $5::int8[], $6::float8[])
        ON CONFLICT (environment_id, event_key, bucket_start) DO UPDATE SET
            count = c.count + EXCLUDED.count,
            value_count = c.value_count + EXCLUDED.value_count,
            value_sum = c.value_sum + EXCLUDED.value_sum
        "#,
        &columns.0,
        &columns.1,
        &columns.2,
        &columns.3,
        &columns.4,
        &columns.5
    )
    .execute(connection)
    .await?;
    Ok(())
}
