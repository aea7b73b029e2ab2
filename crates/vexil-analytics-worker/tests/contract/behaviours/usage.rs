//! `FlagUsage`'s reads: evaluation counts per bucket and variation, distinct contexts.

use vexil_analytics_worker::stats::hll::HyperLogLog;
use vexil_analytics_worker::store::{date_of, time_of, AnalyticsStore, UsageCell};

use crate::fixtures::{
    batch, event, feature, summary, unkeyed, ENVIRONMENT, HOUR, OTHER_ENVIRONMENT,
};

const MINUTE: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

fn cell(bucket_ms: i64, variation: i32, count: i64) -> UsageCell {
    UsageCell {
        bucket_start: time_of(bucket_ms),
        variation,
        count,
    }
}

pub async fn usage_sums_buckets_by_variation(store: &dyn AnalyticsStore) {
    let events = vec![
        event(
            ENVIRONMENT,
            "summary",
            summary(
                HOUR + 1000,
                &[(
                    "checkout",
                    &[
                        (Some(0), Some(7), 3),
                        (Some(1), Some(7), 2),
                        (Some(0), Some(8), 1),
                    ],
                )],
            ),
        ),
        event(
            ENVIRONMENT,
            "summary",
            summary(
                HOUR + MINUTE + 1000,
                &[
                    ("checkout", &[(Some(1), Some(8), 4)]),
                    ("banner", &[(Some(0), Some(1), 9)]),
                ],
            ),
        ),
        // No variation served, the flag unknown.
        event(
            ENVIRONMENT,
            "summary",
            summary(HOUR + HOUR_MS + 5, &[("checkout", &[(None, None, 5)])]),
        ),
        // Outside the window asked for, and in another environment.
        event(
            ENVIRONMENT,
            "summary",
            summary(
                HOUR + 2 * HOUR_MS,
                &[("checkout", &[(Some(0), Some(8), 50)])],
            ),
        ),
        event(
            OTHER_ENVIRONMENT,
            "summary",
            summary(HOUR + 1000, &[("checkout", &[(Some(0), Some(8), 100)])]),
        ),
    ];
    store
        .commit(&batch(0, 0, 5, unkeyed(events)))
        .await
        .unwrap();
    let (from, to) = (time_of(HOUR), time_of(HOUR + 2 * HOUR_MS));
    assert_eq!(
        store
            .flag_usage(ENVIRONMENT, "checkout", from, to, MINUTE)
            .await
            .unwrap(),
        [
            cell(HOUR, 0, 4),
            cell(HOUR, 1, 2),
            cell(HOUR + MINUTE, 1, 4),
            cell(HOUR + HOUR_MS, -1, 5),
        ]
    );
    assert_eq!(
        store
            .flag_usage(ENVIRONMENT, "checkout", from, to, HOUR_MS)
            .await
            .unwrap(),
        [
            cell(HOUR, 0, 4),
            cell(HOUR, 1, 6),
            cell(HOUR + HOUR_MS, -1, 5)
        ]
    );
    assert_eq!(
        store
            .flag_usage(
                ENVIRONMENT,
                "checkout",
                from,
                time_of(HOUR + MINUTE),
                MINUTE
            )
            .await
            .unwrap(),
        [cell(HOUR, 0, 4), cell(HOUR, 1, 2)]
    );
    assert!(store
        .flag_usage(ENVIRONMENT, "nobody-evaluates-this", from, to, MINUTE)
        .await
        .unwrap()
        .is_empty());
}

pub async fn distinct_contexts_union_the_days_and_partitions_asked_for(store: &dyn AnalyticsStore) {
    let day = HOUR / DAY_MS;
    let seen = |at: i64, user: &str| {
        event(
            ENVIRONMENT,
            "feature",
            feature(at, "checkout", user, 0, false),
        )
    };
    let partition_0 = vec![
        seen(HOUR, "u1"),
        seen(HOUR + 1, "u2"),
        seen(HOUR + 2, "u3"),
        seen(HOUR + DAY_MS, "u5"),
    ];
    let partition_1 = vec![seen(HOUR + 3, "u2"), seen(HOUR + 4, "u4")];
    store
        .commit(&batch(0, 0, 4, unkeyed(partition_0)))
        .await
        .unwrap();
    store
        .commit(&batch(1, 0, 2, unkeyed(partition_1)))
        .await
        .unwrap();
    // A later batch of the same partition merges into the stored sketch.
    store
        .commit(&batch(0, 4, 5, unkeyed(vec![seen(HOUR + 5, "u6")])))
        .await
        .unwrap();
    let sketch_of = |users: &[&str]| {
        let mut sketch = HyperLogLog::default();
        for user in users {
            sketch.insert(user.as_bytes());
        }
        sketch
    };
    let first_day = date_of(i32::try_from(day).unwrap());
    let second_day = date_of(i32::try_from(day + 1).unwrap());
    let one_day = store
        .distinct_contexts(ENVIRONMENT, "checkout", first_day, first_day)
        .await
        .unwrap();
    assert_eq!(one_day, sketch_of(&["u1", "u2", "u3", "u4", "u6"]));
    assert_eq!(one_day.estimate(), 5);
    let two_days = store
        .distinct_contexts(ENVIRONMENT, "checkout", first_day, second_day)
        .await
        .unwrap();
    assert_eq!(two_days, sketch_of(&["u1", "u2", "u3", "u4", "u5", "u6"]));
    let none = store
        .distinct_contexts(OTHER_ENVIRONMENT, "checkout", first_day, second_day)
        .await
        .unwrap();
    assert_eq!(none.estimate(), 0);
}
