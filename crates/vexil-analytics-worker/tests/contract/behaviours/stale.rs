//! `StaleFlags`' reads: when flags were last evaluated, and what they served since a time.

use vexil_analytics_worker::store::{time_of, AnalyticsStore, FlagActivity};

use crate::fixtures::{
    batch, event, feature, summary, unkeyed, ENVIRONMENT, HOUR, OTHER_ENVIRONMENT,
};

pub async fn last_evaluated_and_flag_activity_per_flag(store: &dyn AnalyticsStore) {
    let first = vec![
        event(
            ENVIRONMENT,
            "summary",
            summary(
                HOUR + 1000,
                &[(
                    "checkout",
                    &[
                        (Some(0), Some(1), 3),
                        (Some(1), Some(1), 2),
                        (None, Some(1), 1),
                    ],
                )],
            ),
        ),
        // A feature event tells when, not how often (summaries count evaluations).
        event(
            ENVIRONMENT,
            "feature",
            feature(HOUR + 500, "banner", "u1", 0, false),
        ),
        event(
            OTHER_ENVIRONMENT,
            "summary",
            summary(HOUR + 9000, &[("banner", &[(Some(1), Some(1), 7)])]),
        ),
    ];
    store.commit(&batch(0, 0, 3, unkeyed(first))).await.unwrap();
    let second = vec![
        event(
            ENVIRONMENT,
            "summary",
            summary(HOUR + 10_000, &[("checkout", &[(Some(0), Some(1), 4)])]),
        ),
        // Older than what is stored: last evaluated does not move back.
        event(
            ENVIRONMENT,
            "feature",
            feature(HOUR - 1000, "banner", "u2", 0, false),
        ),
    ];
    store
        .commit(&batch(0, 3, 5, unkeyed(second)))
        .await
        .unwrap();

    let flags = [
        "checkout".to_owned(),
        "banner".to_owned(),
        "never".to_owned(),
    ];
    let mut last = store.last_evaluated(ENVIRONMENT, &flags).await.unwrap();
    last.sort();
    assert_eq!(
        last,
        [
            ("banner".to_owned(), time_of(HOUR + 500)),
            ("checkout".to_owned(), time_of(HOUR + 10_000)),
        ]
    );
    let activity = store
        .flag_activity(ENVIRONMENT, &flags, time_of(HOUR))
        .await
        .unwrap();
    assert_eq!(
        activity,
        [FlagActivity {
            flag_key: "checkout".into(),
            variations_served: 2,
            evaluations: 10,
        }]
    );
    assert!(store
        .flag_activity(ENVIRONMENT, &flags, time_of(HOUR + 3_600_000))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .last_evaluated(ENVIRONMENT, &[])
        .await
        .unwrap()
        .is_empty());
}
