use super::*;

#[test]
fn summary_counters_keep_variation_and_version_and_mark_unknown_flags() {
    let json = br#"{"kind":"summary","startDate":1,"endDate":2,"features":{
        "new-checkout":{"default":false,"contextKinds":["user"],"counters":[
            {"variation":1,"version":7,"value":true,"count":41},
            {"variation":0,"version":7,"value":false,"count":12}]},
        "ghost-flag":{"default":"x","counters":[{"unknown":true,"value":"x","count":2}]}}}"#;
    let SdkEvent::Summary(summary) = parse("summary", json).unwrap() else {
        panic!("not a summary")
    };
    assert_eq!(summary.end_date, Some(2));
    assert_eq!(summary.flags[0].flag_key, "ghost-flag");
    assert_eq!(
        summary.flags[0].counters,
        [Counter {
            variation: None,
            version: None,
            count: 2
        }]
    );
    assert_eq!(
        summary.flags[1].counters,
        [
            Counter {
                variation: Some(1),
                version: Some(7),
                count: 41
            },
            Counter {
                variation: Some(0),
                version: Some(7),
                count: 12
            }
        ]
    );
}

#[test]
fn feature_events_carry_the_experiment_flag_and_the_context() {
    let json = br#"{"kind":"feature","creationDate":1718000000456,"key":"new-checkout","version":7,
        "context":{"kind":"user","key":"u-5"},"variation":1,"value":true,"default":false,
        "reason":{"kind":"RULE_MATCH","ruleIndex":0,"ruleId":"r","inExperiment":true}}"#;
    let SdkEvent::Evaluation(evaluation) = parse("feature", json).unwrap() else {
        panic!("not an evaluation")
    };
    assert!(evaluation.is_in_experiment && !evaluation.is_debug);
    assert_eq!(evaluation.context.canonical_key(), "u-5");
    assert_eq!(evaluation.variation, Some(1));
}

#[test]
fn custom_events_accept_context_keys() {
    let json = br#"{"kind":"custom","creationDate":5,"key":"checkout-completed",
        "contextKeys":{"user":"u-5"},"data":{"cart":3},"metricValue":59.9}"#;
    let SdkEvent::Custom(custom) = parse("custom", json).unwrap() else {
        panic!("not custom")
    };
    assert_eq!(custom.metric_value, Some(59.9));
    assert!(!custom.context.is_full);
}

#[test]
fn malformed_events_are_invalid_and_unknown_kinds_ignored() {
    for (kind, json) in [
        ("feature", &br#"{"kind":"feature","key":"f"}"#[..]),
        ("custom", br#"{"kind":"custom","contextKeys":{"user":"u"}}"#),
        (
            "summary",
            br#"{"features":{"f":{"counters":[{"count":-1}]}}}"#,
        ),
        ("index", br#"not json"#),
    ] {
        assert!(parse(kind, json).is_err(), "{kind}");
    }
    assert_eq!(parse("migration_op", b"{}").unwrap(), SdkEvent::Ignored);
    assert_eq!(parse("diagnostic", b"{}").unwrap(), SdkEvent::Ignored);
}
