//! `ExperimentStatistics`' reads: units per variation and the sufficient statistics of a
//! metric, from exposures joined with custom events at or after them.

use vexil_analytics_worker::store::{AnalyticsStore, VariationStatisticsRow};

use crate::fixtures::{batch, custom, event, feature, unkeyed, ENVIRONMENT, HOUR};

fn variation(
    variation: i32,
    units: i64,
    conversions: i64,
    value_sum: f64,
    value_sum_squares: f64,
) -> VariationStatisticsRow {
    VariationStatisticsRow {
        variation,
        units,
        conversions,
        value_sum,
        value_sum_squares,
    }
}

pub async fn experiment_statistics_join_exposures_with_later_custom_events(
    store: &dyn AnalyticsStore,
) {
    let exposed = |user: &str, variation: i32| {
        event(
            ENVIRONMENT,
            "feature",
            feature(HOUR, "pricing", user, variation, true),
        )
    };
    let metric = |at: i64, key: &str, user: &str, value: Option<f64>| {
        event(ENVIRONMENT, "custom", custom(at, key, user, value))
    };
    let first = vec![
        exposed("u1", 0),
        exposed("u2", 1),
        exposed("u3", 1),
        // Not in an experiment: no unit.
        event(
            ENVIRONMENT,
            "feature",
            feature(HOUR, "pricing", "u9", 0, false),
        ),
        metric(HOUR + 1, "purchase", "u1", Some(10.0)),
        metric(HOUR + 2, "purchase", "u1", Some(5.0)),
        metric(HOUR + 1, "purchase", "u2", Some(3.0)),
        // Before u2's exposure: not counted.
        metric(HOUR - 5, "purchase", "u2", Some(1000.0)),
        metric(HOUR + 1, "click", "u3", None),
        // Never exposed.
        metric(HOUR + 1, "purchase", "u4", Some(100.0)),
        metric(HOUR + 1, "purchase", "u9", Some(100.0)),
    ];
    let count = first.len() as i64;
    store
        .commit(&batch(0, 0, count, unkeyed(first)))
        .await
        .unwrap();
    // u1's total grows in a later batch: the sum of squares follows the total (16², not
    // 15² + 1²); a second exposure does not move u1 to another variation.
    let second = vec![
        exposed("u1", 1),
        metric(HOUR + 3, "purchase", "u1", Some(1.0)),
    ];
    store
        .commit(&batch(0, count, count + 2, unkeyed(second)))
        .await
        .unwrap();

    assert_eq!(
        store
            .experiment_statistics(ENVIRONMENT, "pricing", "purchase")
            .await
            .unwrap(),
        [
            variation(0, 1, 1, 16.0, 256.0),
            variation(1, 2, 1, 3.0, 9.0)
        ]
    );
    assert_eq!(
        store
            .experiment_statistics(ENVIRONMENT, "pricing", "click")
            .await
            .unwrap(),
        [variation(0, 1, 0, 0.0, 0.0), variation(1, 2, 1, 0.0, 0.0)]
    );
    assert_eq!(
        store
            .experiment_metric_keys(ENVIRONMENT, "pricing")
            .await
            .unwrap(),
        ["click", "purchase"]
    );
    assert!(store
        .experiment_statistics(ENVIRONMENT, "not-an-experiment", "purchase")
        .await
        .unwrap()
        .is_empty());
}
