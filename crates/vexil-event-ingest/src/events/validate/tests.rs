//! One case per line: an event and the outcome its kind's rules give it.

use serde_json::{json, Value};

use super::*;
use crate::events::parse_diagnostic;

/// One event on its own, read as a diagnostic body is: a single JSON object.
fn event(json: &str) -> Event<'_> {
    parse_diagnostic(json.as_bytes()).unwrap()
}

#[track_caller]
fn accepts(event: Value, kind: EventKind, context_key: Option<&str>) {
    let json = event.to_string();
    let valid = validate_event(&self::event(&json)).unwrap_or_else(|invalid| {
        panic!("{event} was dropped: {invalid:?}");
    });
    assert_eq!(valid.kind, kind, "{event}");
    assert_eq!(valid.context_key.as_deref(), context_key, "{event}");
}

#[track_caller]
fn drops(event: Value, reason: DropReason) {
    match validate_event(&self::event(&event.to_string())) {
        Ok(valid) => panic!("{event} was accepted as {valid:?}"),
        Err(invalid) => assert_eq!(invalid.reason, reason, "{event}: {}", invalid.detail),
    }
}

fn feature() -> Value {
    json!({"kind": "feature", "creationDate": 1718000000456u64, "key": "new-checkout",
           "version": 7, "context": {"kind": "user", "key": "u-5"}, "variation": 1,
           "value": true, "default": false,
           "reason": {"kind": "RULE_MATCH", "ruleIndex": 0, "inExperiment": true}})
}

fn summary() -> Value {
    json!({"kind": "summary", "startDate": 1718000000000u64, "endDate": 1718000005000u64,
           "features": {
             "new-checkout": {"default": false, "contextKinds": ["user"],
               "counters": [{"variation": 1, "version": 7, "value": true, "count": 41}]},
             "ghost-flag": {"default": "x", "counters": [{"unknown": true, "value": "x", "count": 2}]}}})
}

fn with(mut event: Value, field: &str, value: Value) -> Value {
    event[field] = value;
    event
}

fn without(mut event: Value, field: &str) -> Value {
    event.as_object_mut().unwrap().remove(field);
    event
}

#[test]
fn spec_examples_are_accepted() {
    accepts(
        json!({"kind": "index", "creationDate": 1718000000123u64,
               "context": {"kind": "user", "key": "u-5", "email": "a@x.io"}}),
        EventKind::Index,
        Some("u-5"),
    );
    accepts(feature(), EventKind::Feature, Some("u-5"));
    accepts(
        with(feature(), "kind", json!("debug")),
        EventKind::Debug,
        Some("u-5"),
    );
    accepts(
        json!({"kind": "custom", "creationDate": 1718000000789u64, "key": "checkout-completed",
               "contextKeys": {"user": "u-5"}, "data": {"cart": 3}, "metricValue": 59.9}),
        EventKind::Custom,
        Some("u-5"),
    );
    accepts(
        json!({"kind": "identify", "creationDate": 1, "context": {"kind": "org", "key": "o"}}),
        EventKind::Identify,
        Some("org:o"),
    );
    accepts(summary(), EventKind::Summary, None);
    accepts(
        json!({"kind": "migration_op", "creationDate": 1718000001000u64, "operation": "read",
               "contextKeys": {"user": "u-5"},
               "evaluation": {"key": "db-migration", "value": "shadow", "default": "off"},
               "measurements": []}),
        EventKind::MigrationOp,
        Some("u-5"),
    );
}

#[test]
fn optional_fields_and_unknown_fields_are_tolerated() {
    accepts(
        without(feature(), "version"),
        EventKind::Feature,
        Some("u-5"),
    );
    accepts(
        with(feature(), "variation", Value::Null),
        EventKind::Feature,
        Some("u-5"),
    );
    accepts(
        with(feature(), "futureField", json!([1])),
        EventKind::Feature,
        Some("u-5"),
    );
    let custom = json!({"kind": "custom", "creationDate": 1, "key": "k",
                        "context": {"kind": "user", "key": "u"}});
    accepts(custom.clone(), EventKind::Custom, Some("u"));
    accepts(
        with(custom, "metricValue", json!(-3)),
        EventKind::Custom,
        Some("u"),
    );
    accepts(
        with(summary(), "context", json!({"kind": "user", "key": "u"})),
        EventKind::Summary,
        Some("u"),
    );
}

#[test]
fn malformed_events_are_dropped_with_their_reason() {
    drops(without(feature(), "kind"), DropReason::MissingKind);
    drops(with(feature(), "kind", json!(3)), DropReason::MissingKind);
    drops(
        with(feature(), "kind", json!("alias")),
        DropReason::UnknownKind,
    );
    drops(
        with(feature(), "kind", json!("diagnostic")),
        DropReason::UnknownKind,
    );
    drops(
        without(feature(), "creationDate"),
        DropReason::InvalidTimestamp,
    );
    drops(
        with(feature(), "creationDate", json!("2024-01-01")),
        DropReason::InvalidTimestamp,
    );
    drops(
        with(feature(), "creationDate", json!(-1)),
        DropReason::InvalidTimestamp,
    );
    drops(with(feature(), "key", json!("")), DropReason::InvalidKey);
    drops(without(feature(), "key"), DropReason::InvalidKey);
    drops(without(feature(), "context"), DropReason::InvalidContext);
    drops(
        with(feature(), "context", json!({"kind": "user"})),
        DropReason::InvalidContext,
    );
    drops(
        with(feature(), "version", json!("7")),
        DropReason::InvalidField,
    );
    drops(
        with(feature(), "variation", json!(1.5)),
        DropReason::InvalidField,
    );
    drops(
        with(feature(), "reason", json!("RULE_MATCH")),
        DropReason::InvalidField,
    );
    let custom = json!({"kind": "custom", "creationDate": 1, "key": "k",
                        "contextKeys": {"user": "u"}});
    drops(
        with(custom.clone(), "metricValue", json!("59.9")),
        DropReason::InvalidMetricValue,
    );
    drops(
        with(custom, "contextKeys", json!({"user": 5})),
        DropReason::InvalidContext,
    );
    drops(
        json!({"kind": "identify", "creationDate": 1, "contextKeys": {"user": "u"}}),
        DropReason::InvalidContext,
    );
}

#[test]
fn malformed_summaries_are_dropped() {
    drops(without(summary(), "features"), DropReason::InvalidSummary);
    drops(
        with(summary(), "endDate", json!(1)),
        DropReason::InvalidTimestamp,
    );
    drops(
        with(summary(), "features", json!({"f": {"counters": {}}})),
        DropReason::InvalidSummary,
    );
    drops(
        with(
            summary(),
            "features",
            json!({"f": {"counters": [{"count": -1}]}}),
        ),
        DropReason::InvalidSummary,
    );
    drops(
        with(
            summary(),
            "features",
            json!({"f": {"counters": [{"count": 1, "version": "7"}]}}),
        ),
        DropReason::InvalidSummary,
    );
}

#[test]
fn diagnostic_events_need_their_kind_id_and_date() {
    let init = json!({"kind": "diagnostic-init", "creationDate": 1,
                      "id": {"diagnosticId": "d", "sdkKeySuffix": "abcdef"}, "sdk": {}});
    let json = init.to_string();
    let valid = validate_diagnostic(&event(&json)).unwrap();
    assert_eq!(valid.kind, EventKind::DiagnosticInit);
    let periodic = with(init.clone(), "kind", json!("diagnostic"));
    assert_eq!(
        validate_diagnostic(&event(&periodic.to_string()))
            .unwrap()
            .kind,
        EventKind::Diagnostic
    );
    let reason = |diagnostic: Value| {
        validate_diagnostic(&event(&diagnostic.to_string()))
            .unwrap_err()
            .reason
    };
    assert_eq!(
        reason(with(init.clone(), "kind", json!("feature"))),
        DropReason::UnknownKind
    );
    assert_eq!(
        reason(without(init.clone(), "id")),
        DropReason::InvalidField
    );
    assert_eq!(
        reason(without(init, "creationDate")),
        DropReason::InvalidTimestamp
    );
}

#[test]
fn null_fields_are_present_and_duplicate_fields_are_refused() {
    drops(
        with(feature(), "version", Value::Null),
        DropReason::InvalidField,
    );
    drops(
        with(feature(), "creationDate", Value::Null),
        DropReason::InvalidTimestamp,
    );
    accepts(
        with(feature(), "variation", Value::Null),
        EventKind::Feature,
        Some("u-5"),
    );
    // The analytics worker's typed parse refuses a field named twice, so ingest does too.
    let twice =
        r#"{"kind":"custom","creationDate":1,"key":"k","key":"k","contextKeys":{"user":"u"}}"#;
    assert_eq!(
        validate_event(&event(twice)).unwrap_err().reason,
        DropReason::InvalidField
    );
    let escaped =
        r#"{"kind":"cust\u006fm","creationDate":1,"key":"k\"","contextKeys":{"us\u0065r":"u\n"}}"#;
    let valid = validate_event(&event(escaped)).unwrap();
    assert_eq!(valid.kind, EventKind::Custom);
    assert_eq!(valid.context_key.as_deref(), Some("u\n"));
}
