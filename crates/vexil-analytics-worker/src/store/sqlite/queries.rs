//! Reads behind the gRPC `Analytics` service, on SQLite. A list of flag keys travels as one
//! JSON array parameter, read with `json_each` (SQLite has no array parameters).

use sqlx::SqlitePool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::stats::hll::HyperLogLog;
use crate::store::rows::{ContextRow, FlagActivity, UsageCell, VariationStatisticsRow};
use crate::store::{day_of, time_of, unix_ms};

pub async fn flag_usage(
    reader: &SqlitePool,
    environment_id: Uuid,
    flag_key: &str,
    from: OffsetDateTime,
    to: OffsetDateTime,
    bucket_ms: i64,
) -> Result<Vec<UsageCell>, sqlx::Error> {
    // Stored bucket starts are never negative, so integer division is PostgreSQL's
    // `date_bin` from the epoch.
    let rows: Vec<(i64, i32, i64)> = sqlx::query_as(
        r#"
        SELECT (bucket_start_ms / ?5) * ?5 AS bucket, variation, SUM(count)
        FROM evaluations
        WHERE environment_id = ?1 AND flag_key = ?2
            AND bucket_start_ms >= ?3 AND bucket_start_ms < ?4
        GROUP BY 1, 2
        ORDER BY 1, 2
        "#,
    )
    .bind(environment_id.hyphenated())
    .bind(flag_key)
    .bind(unix_ms(from))
    .bind(unix_ms(to))
    .bind(bucket_ms.max(1))
    .fetch_all(reader)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(bucket, variation, count)| UsageCell {
            bucket_start: time_of(bucket),
            variation,
            count,
        })
        .collect())
}

/// The union of the flag's distinct-context sketches of the days `from..=to`.
pub async fn distinct_contexts(
    reader: &SqlitePool,
    environment_id: Uuid,
    flag_key: &str,
    from: time::Date,
    to: time::Date,
) -> Result<HyperLogLog, sqlx::Error> {
    let rows: Vec<Vec<u8>> = sqlx::query_scalar(
        r#"
        SELECT sketch FROM flag_context_sketches
        WHERE environment_id = ?1 AND flag_key = ?2 AND day >= ?3 AND day <= ?4
        "#,
    )
    .bind(environment_id.hyphenated())
    .bind(flag_key)
    .bind(day_of(from))
    .bind(day_of(to))
    .fetch_all(reader)
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
    reader: &SqlitePool,
    environment_id: Uuid,
    flag_keys: &[String],
) -> Result<Vec<(String, OffsetDateTime)>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        r#"
        SELECT flag_key, last_evaluated_at_ms FROM flag_last_evaluated
        WHERE environment_id = ?1 AND flag_key IN (SELECT value FROM json_each(?2))
        "#,
    )
    .bind(environment_id.hyphenated())
    .bind(json_array(flag_keys))
    .fetch_all(reader)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(flag_key, at)| (flag_key, time_of(at)))
        .collect())
}

/// Up to `limit` contexts, most recently seen first, strictly after `after` in that order.
pub async fn contexts(
    reader: &SqlitePool,
    environment_id: Uuid,
    kind: Option<&str>,
    after: Option<&ContextRow>,
    limit: i64,
) -> Result<Vec<ContextRow>, sqlx::Error> {
    let rows: Vec<(String, String, Option<String>, i64)> = sqlx::query_as(
        r#"
        SELECT kind, key, name, last_seen_at_ms FROM contexts
        WHERE environment_id = ?1
            AND (?2 IS NULL OR kind = ?2)
            AND (?3 IS NULL OR (last_seen_at_ms, kind, key) < (?3, ?4, ?5))
        ORDER BY last_seen_at_ms DESC, kind DESC, key DESC
        LIMIT ?6
        "#,
    )
    .bind(environment_id.hyphenated())
    .bind(kind)
    .bind(after.map(|row| unix_ms(row.last_seen_at)))
    .bind(after.map(|row| row.kind.as_str()))
    .bind(after.map(|row| row.key.as_str()))
    .bind(limit)
    .fetch_all(reader)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, key, name, last_seen)| ContextRow {
            kind,
            key,
            name,
            last_seen_at: time_of(last_seen),
        })
        .collect())
}

/// Per flag evaluated since `since`: distinct variation indexes served and evaluations.
pub async fn flag_activity(
    reader: &SqlitePool,
    environment_id: Uuid,
    flag_keys: &[String],
    since: OffsetDateTime,
) -> Result<Vec<FlagActivity>, sqlx::Error> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        r#"
        SELECT flag_key,
            COUNT(DISTINCT CASE WHEN variation >= 0 THEN variation END),
            SUM(count)
        FROM evaluations
        WHERE environment_id = ?1 AND flag_key IN (SELECT value FROM json_each(?2))
            AND bucket_start_ms >= ?3
        GROUP BY flag_key
        "#,
    )
    .bind(environment_id.hyphenated())
    .bind(json_array(flag_keys))
    .bind(unix_ms(since))
    .fetch_all(reader)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(flag_key, variations_served, evaluations)| FlagActivity {
            flag_key,
            variations_served,
            evaluations,
        })
        .collect())
}

pub async fn experiment_statistics(
    reader: &SqlitePool,
    environment_id: Uuid,
    flag_key: &str,
    metric_key: &str,
) -> Result<Vec<VariationStatisticsRow>, sqlx::Error> {
    let rows: Vec<(i32, i64, i64, f64, f64)> = sqlx::query_as(
        r#"
        SELECT u.variation, u.units,
            COALESCE(s.conversions, 0),
            COALESCE(s.value_sum, 0.0),
            COALESCE(s.value_sum_squares, 0.0)
        FROM experiment_units u
        LEFT JOIN experiment_metric_stats s
            ON s.environment_id = u.environment_id AND s.flag_key = u.flag_key
                AND s.variation = u.variation AND s.metric_key = ?3
        WHERE u.environment_id = ?1 AND u.flag_key = ?2
        ORDER BY u.variation
        "#,
    )
    .bind(environment_id.hyphenated())
    .bind(flag_key)
    .bind(metric_key)
    .fetch_all(reader)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(variation, units, conversions, value_sum, value_sum_squares)| {
                VariationStatisticsRow {
                    variation,
                    units,
                    conversions,
                    value_sum,
                    value_sum_squares,
                }
            },
        )
        .collect())
}

pub async fn experiment_metric_keys(
    reader: &SqlitePool,
    environment_id: Uuid,
    flag_key: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        r#"
        SELECT DISTINCT metric_key FROM experiment_metric_stats
        WHERE environment_id = ?1 AND flag_key = ?2 AND conversions > 0
        ORDER BY metric_key
        "#,
    )
    .bind(environment_id.hyphenated())
    .bind(flag_key)
    .fetch_all(reader)
    .await
}

fn json_array(values: &[String]) -> String {
    serde_json::to_string(values).expect("a list of strings serializes")
}
