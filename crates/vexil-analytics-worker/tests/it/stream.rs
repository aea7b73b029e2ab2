//! A stream of events as event-ingest produces them (summaries over flag `f` with
//! variations 0-2, and every tenth event a `click` custom event with metric value 2), and
//! the exact aggregates the worker must build from what the broker holds of it.

use std::ops::Range;

use sqlx::PgPool;
use vexil_proto::analytics::v1::VariationCount;

use crate::support::*;

/// The events at stream positions `positions`, in payloads of 50 (`payload-{n}` holds
/// positions `50 n` to `50 n + 49`), created at `now`.
pub fn stream(environment: &str, positions: Range<usize>, now: i64) -> Vec<Record> {
    positions
        .map(|i| {
            let json = if i % 10 == 0 {
                format!(r#"{{"kind":"custom","creationDate":{now},"key":"click","contextKeys":{{"user":"u{}"}},"metricValue":2}}"#, i % 97)
            } else {
                format!(
                    r#"{{"kind":"summary","startDate":{now},"endDate":{now},"features":{{"f":{{"counters":[{{"variation":{},"version":1,"count":1}}]}}}}}}"#,
                    i % 3
                )
            };
            envelope(environment, &format!("payload-{}", i / 50), (i % 50) as u32, &json)
        })
        .collect()
}

/// The evaluations of `f` per variation among the `stored` stream positions.
pub fn expected_usage(stored: &[usize]) -> Vec<VariationCount> {
    (0..3)
        .map(|variation| VariationCount {
            variation: Some(variation),
            count: stored
                .iter()
                .filter(|i| *i % 10 != 0 && *i % 3 == variation as usize)
                .count() as u64,
        })
        .collect()
}

/// Checks the aggregates in the worker's database against the `stored` stream positions
/// (from `read_back`): every event counted exactly once.
pub async fn assert_exact_aggregates(pool: &PgPool, stored: &[usize]) {
    let counts: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT variation, SUM(count)::int8 FROM analytics.evaluations GROUP BY variation ORDER BY variation",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let expected: Vec<(i32, i64)> = expected_usage(stored)
        .iter()
        .map(|total| (total.variation.unwrap(), total.count as i64))
        .collect();
    assert_eq!(counts, expected, "evaluations per variation");
    let expected_clicks = stored.iter().filter(|i| *i % 10 == 0).count() as i64;
    let (clicks, value_sum): (i64, f64) =
        sqlx::query_as("SELECT SUM(count)::int8, SUM(value_sum) FROM analytics.custom_events")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(
        (clicks, value_sum),
        (expected_clicks, expected_clicks as f64 * 2.0),
        "custom events"
    );
}
