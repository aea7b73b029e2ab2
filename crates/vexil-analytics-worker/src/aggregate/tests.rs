use super::*;
use crate::events::parse;

const ENVIRONMENT: Uuid = Uuid::from_u128(7);

fn fold(events: &[(&str, &str)]) -> BatchAggregates {
    let mut batch = BatchAggregates::default();
    for (kind, json) in events {
        batch.add(&Accepted {
            environment_id: ENVIRONMENT,
            received_at_ms: 1_000_000,
            event: parse(kind, json.as_bytes()).unwrap(),
        });
    }
    batch
}

#[test]
fn evaluations_are_counted_from_summaries_only() {
    let batch = fold(&[
        (
            "summary",
            r#"{"startDate":60000,"endDate":125000,"features":{"f":{"counters":[
            {"variation":1,"version":3,"count":5},{"unknown":true,"count":2}]}}}"#,
        ),
        (
            "feature",
            r#"{"creationDate":130000,"key":"f","variation":1,"contextKeys":{"user":"u"}}"#,
        ),
    ]);
    let counts: Vec<_> = batch
        .evaluations
        .iter()
        .map(|(key, count)| (key.bucket_start_ms, key.variation, key.flag_version, *count))
        .collect();
    assert_eq!(counts, [(120_000, -1, -1, 2), (120_000, 1, 3, 5)]);
    assert_eq!(batch.last_evaluated[&(ENVIRONMENT, "f".into())], 130_000);
    assert_eq!(batch.sketches.values().next().unwrap().estimate(), 1);
}

#[test]
fn anonymous_contexts_are_not_listed_and_context_keys_only_refresh() {
    let batch = fold(&[
        (
            "index",
            r#"{"creationDate":5,"context":{"kind":"user","key":"anon","anonymous":true}}"#,
        ),
        (
            "identify",
            r#"{"creationDate":6,"context":{"kind":"user","key":"u","name":"Ann"}}"#,
        ),
        (
            "custom",
            r#"{"creationDate":9,"key":"m","contextKeys":{"user":"u","org":"o"}}"#,
        ),
    ]);
    let listed: Vec<_> = batch
        .contexts
        .iter()
        .map(|((_, kind, key), update)| {
            (
                kind.as_str(),
                key.as_str(),
                update.name.as_deref(),
                update.last_seen_ms,
                update.may_insert,
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("org", "o", None, 9, false),
            ("user", "u", Some("Ann"), 9, true)
        ]
    );
}

#[test]
fn first_experiment_exposure_wins_and_debug_events_never_expose() {
    let batch = fold(&[
        (
            "debug",
            r#"{"creationDate":1,"key":"f","variation":0,"reason":{"kind":"FALLTHROUGH","inExperiment":true},"contextKeys":{"user":"u"}}"#,
        ),
        (
            "feature",
            r#"{"creationDate":2,"key":"f","variation":1,"reason":{"kind":"FALLTHROUGH","inExperiment":true},"contextKeys":{"user":"u"}}"#,
        ),
        (
            "feature",
            r#"{"creationDate":3,"key":"f","variation":0,"reason":{"kind":"FALLTHROUGH","inExperiment":true},"contextKeys":{"user":"u"}}"#,
        ),
        (
            "feature",
            r#"{"creationDate":3,"key":"f","variation":0,"reason":{"kind":"FALLTHROUGH"},"contextKeys":{"user":"v"}}"#,
        ),
    ]);
    assert_eq!(
        batch.exposures.into_iter().collect::<Vec<_>>(),
        [(
            (ENVIRONMENT, "f".into(), "u".into()),
            Exposure {
                variation: 1,
                at_ms: 2
            }
        )]
    );
}

#[test]
fn custom_events_sum_metric_values_and_feed_the_experiment_join() {
    let batch = fold(&[
        (
            "custom",
            r#"{"creationDate":61000,"key":"m","contextKeys":{"user":"u"},"metricValue":2.5}"#,
        ),
        (
            "custom",
            r#"{"creationDate":62000,"key":"m","contextKeys":{"user":"u"}}"#,
        ),
    ]);
    assert_eq!(
        batch.custom_events[&(ENVIRONMENT, "m".into(), 60_000)],
        CustomTotals {
            count: 2,
            value_count: 1,
            value_sum: 2.5
        }
    );
    assert_eq!(batch.metric_events.len(), 2);
    assert_eq!(batch.metric_events[1].value, 0.0);
}
