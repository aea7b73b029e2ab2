//! Reads behind the gRPC `Analytics` service, on PostgreSQL.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::stats::hll::HyperLogLog;
use crate::store::rows::{ContextRow, FlagActivity, UsageCell, VariationStatisticsRow};

pub async fn flag_usage(
    pool: &PgPool,
    environment_id: Uuid,
    flag_key: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
    bucket_ms: i64,
) -> Result<Vec<UsageCell>, sqlx::Error> {
    sqlx::query_as!(
        UsageCell,
        r#"
        SELECT date_bin($5::int8 * INTERVAL '1 millisecond', bucket_start, TIMESTAMPTZ '1970-01-01 00:00:00+00')
                AS "bucket_start!",
            variation,
            SUM(count)::int8 AS "count!"
        FROM analytics.evaluations
        WHERE environment_id = $1 AND flag_key = $2 AND bucket_start >= $3 AND bucket_start < $4
        GROUP BY 1, 2
        ORDER BY 1, 2
        "#,
        environment_id,
        flag_key,
        from,
        to,
        bucket_ms
    )
    .fetch_all(pool)
    .await
}

/// The union of the flag's distinct-context sketches of the days `from..=to`.
pub async fn distinct_contexts(
    pool: &PgPool,
    environment_id: Uuid,
    flag_key: &str,
    from: time::Date,
    to: time::Date,
) -> Result<HyperLogLog, sqlx::Error> {
    let rows = sqlx::query_scalar!(
        r#"
        SELECT sketch FROM analytics.flag_context_sketches
        WHERE environment_id = $1 AND flag_key = $2 AND day >= $3 AND day <= $4
        "#,
        environment_id,
        flag_key,
        from,
        to
    )
    .fetch_all(pool)
    .await?;
    let mut union = HyperLogLog::default();
    for bytes in rows {
        if let Ok(sketch) = HyperLogLog::from_bytes(&bytes) {
            union.merge(&sketch);
        }
    }
    Ok(union)
}

pub async fn last_evaluated(
    pool: &PgPool,
    environment_id: Uuid,
    flag_keys: &[String],
) -> Result<Vec<(String, OffsetDateTime)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"
        SELECT flag_key, last_evaluated_at FROM analytics.flag_last_evaluated
        WHERE environment_id = $1 AND flag_key = ANY($2)
        "#,
        environment_id,
        flag_keys
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.flag_key, row.last_evaluated_at))
        .collect())
}

/// Up to `limit` contexts, most recently seen first, strictly after `after` in that order.
pub async fn contexts(
    pool: &PgPool,
    environment_id: Uuid,
    kind: Option<&str>,
    after: Option<&ContextRow>,
    limit: i64,
) -> Result<Vec<ContextRow>, sqlx::Error> {
    sqlx::query_as!(
        ContextRow,
        r#"
        SELECT kind, key, name, last_seen_at FROM analytics.contexts
        WHERE environment_id = $1
            AND ($2::text IS NULL OR kind = $2)
            AND ($3::timestamptz IS NULL OR (last_seen_at, kind, key) < ($3, $4, $5))
        ORDER BY last_seen_at DESC, kind DESC, key DESC
        LIMIT $6
        "#,
        environment_id,
        kind,
        after.map(|row| row.last_seen_at),
        after.map(|row| row.kind.as_str()),
        after.map(|row| row.key.as_str()),
        limit
    )
    .fetch_all(pool)
    .await
}

/// Per flag evaluated since `since`: distinct variation indexes served and evaluations.
pub async fn flag_activity(
    pool: &PgPool,
    environment_id: Uuid,
    flag_keys: &[String],
    since: OffsetDateTime,
) -> Result<Vec<FlagActivity>, sqlx::Error> {
    sqlx::query_as!(
        FlagActivity,
        r#"
        SELECT flag_key,
            COUNT(DISTINCT variation) FILTER (WHERE variation >= 0) AS "variations_served!",
            SUM(count)::int8 AS "evaluations!"
        FROM analytics.evaluations
        WHERE environment_id = $1 AND flag_key = ANY($2) AND bucket_start >= $3
        GROUP BY flag_key
        "#,
        environment_id,
        flag_keys,
        since
    )
    .fetch_all(pool)
    .await
}

pub async fn experiment_statistics(
    pool: &PgPool,
    environment_id: Uuid,
    flag_key: &str,
    metric_key: &str,
) -> Result<Vec<VariationStatisticsRow>, sqlx::Error> {
    sqlx::query_as!(
        VariationStatisticsRow,
        r#"
        SELECT u.variation, u.units,
            COALESCE(s.conversions, 0) AS "conversions!",
            COALESCE(s.value_sum, 0) AS "value_sum!",
            COALESCE(s.value_sum_squares, 0) AS "value_sum_squares!"
        FROM analytics.experiment_units u
        LEFT JOIN analytics.experiment_metric_stats s
            ON s.environment_id = u.environment_id AND s.flag_key = u.flag_key
                AND s.variation = u.variation AND s.metric_key = $3
        WHERE u.environment_id = $1 AND u.flag_key = $2
        ORDER BY u.variation
        "#,
        environment_id,
        flag_key,
        metric_key
    )
    .fetch_all(pool)
    .await
}

pub async fn experiment_metric_keys(
    pool: &PgPool,
    environment_id: Uuid,
    flag_key: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"
        SELECT DISTINCT metric_key FROM analytics.experiment_metric_stats
        WHERE environment_id = $1 AND flag_key = $2 AND conversions > 0
        ORDER BY metric_key
        "#,
        environment_id,
        flag_key
    )
    .fetch_all(pool)
    .await
}
