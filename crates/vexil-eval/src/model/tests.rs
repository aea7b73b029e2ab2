//! Tests for `model`: decoding defaults, round trips, and the fields every serialized item carries.

use serde_json::{json, Value};

use super::{AllData, Flag, Segment};

/// Spec 1.1: flag fields emitted only when set; every other field is emitted always.
const FLAG_EMITTED_WHEN_SET: [&str; 3] = ["samplingRatio", "excludeFromSummaries", "migration"];

/// Spec 1.8: segment fields emitted only for big segments.
const SEGMENT_EMITTED_WHEN_SET: [&str; 2] = ["unbounded", "unboundedContextKind"];

fn emitted_always<'a>(
    fields: &'a [&'a str],
    when_set: &'a [&'a str],
) -> impl Iterator<Item = &'a str> + 'a {
    fields
        .iter()
        .copied()
        .filter(move |field| !when_set.contains(field))
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn a_minimal_flag_serializes_every_emit_always_field() {
    let mut flag: Flag = serde_json::from_value(json!({"key": "f"})).unwrap();
    flag.canonicalize();
    let out = serde_json::to_value(&flag).unwrap();
    for field in emitted_always(Flag::FIELDS, &FLAG_EMITTED_WHEN_SET) {
        assert!(out.get(field).is_some(), "missing {field} in {out}");
    }
    assert_eq!(
        keys(&out).len(),
        Flag::FIELDS.len() - FLAG_EMITTED_WHEN_SET.len()
    );
    assert_eq!(out["offVariation"], Value::Null);
    assert_eq!(
        out["clientSideAvailability"],
        json!({"usingMobileKey": true, "usingEnvironmentId": false})
    );
    for field in FLAG_EMITTED_WHEN_SET {
        assert!(
            out.get(field).is_none(),
            "{field} emitted only when set: {out}"
        );
    }
}

#[test]
fn a_minimal_segment_serializes_every_emit_always_field() {
    let segment: Segment = serde_json::from_value(json!({"key": "s"})).unwrap();
    let out = serde_json::to_value(&segment).unwrap();
    for field in emitted_always(Segment::FIELDS, &SEGMENT_EMITTED_WHEN_SET) {
        assert!(out.get(field).is_some(), "missing {field} in {out}");
    }
    assert_eq!(
        keys(&out).len(),
        Segment::FIELDS.len() - SEGMENT_EMITTED_WHEN_SET.len()
    );
}

#[test]
fn client_side_availability_falls_back_to_the_legacy_field() {
    let legacy: Flag = serde_json::from_value(json!({"key": "f", "clientSide": true})).unwrap();
    assert!(legacy.client_side_availability().using_environment_id);
    assert!(legacy.client_side_availability().using_mobile_key);
    let explicit: Flag = serde_json::from_value(json!({"key": "f", "clientSide": true,
        "clientSideAvailability": {"usingMobileKey": false, "usingEnvironmentId": false}}))
    .unwrap();
    assert!(!explicit.client_side_availability().using_environment_id);
}

#[test]
fn nulls_decode_as_zero_values_and_malformed_indices_survive() {
    let flag: Flag = serde_json::from_value(
        json!({"key": "f", "rules": null, "targets": null, "salt": null,
        "offVariation": -1, "fallthrough": {"variation": 99}}),
    )
    .unwrap();
    assert!(flag.rules.is_empty() && flag.targets.is_empty() && flag.salt.is_empty());
    assert_eq!(flag.off_variation, Some(-1));
    assert_eq!(flag.fallthrough.variation, Some(99));
}

#[test]
fn full_payloads_round_trip_unchanged() {
    let payload = json!({
        "flags": {"f": {
            "key": "f", "version": 7, "on": true, "variations": [false, true, {"a": [1, 2]}], "offVariation": 0,
            "fallthrough": {"rollout": {"kind": "experiment", "contextKind": "org", "bucketBy": "/x/y", "seed": 61,
                "variations": [{"variation": 0, "weight": 40000}, {"variation": 1, "weight": 60000, "untracked": true}]}},
            "targets": [{"values": ["u-1"], "variation": 1}],
            "contextTargets": [{"contextKind": "user", "values": [], "variation": 1}, {"contextKind": "team", "values": ["qa"], "variation": 1}],
            "rules": [{"id": "r", "clauses": [{"contextKind": "user", "attribute": "email", "op": "endsWith", "values": ["@x.io"], "negate": true}],
                "variation": 1, "trackEvents": true}],
            "prerequisites": [{"key": "p", "variation": 1}], "salt": "s", "trackEvents": false, "trackEventsFallthrough": true,
            "debugEventsUntilDate": 1718003600000_i64,
            "clientSideAvailability": {"usingMobileKey": true, "usingEnvironmentId": true}, "clientSide": true,
            "deleted": false, "samplingRatio": 10, "excludeFromSummaries": true, "migration": {"checkRatio": 5}}},
        "segments": {"s": {
            "key": "s", "version": 3, "included": ["u-7"], "excluded": ["u-9"],
            "includedContexts": [{"contextKind": "team", "values": ["qa"]}], "excludedContexts": [],
            "rules": [{"id": "r1", "clauses": [{"contextKind": "user", "attribute": "/org/plan", "op": "in", "values": ["enterprise"], "negate": false}],
                "weight": 25000, "bucketBy": "key", "rolloutContextKind": "user"}],
            "salt": "0e4c11", "deleted": false, "generation": null}}
    });
    let decoded: AllData = serde_json::from_value(payload.clone()).unwrap();
    assert_eq!(serde_json::to_value(&decoded).unwrap(), payload);
}

#[test]
fn field_lists_name_every_serialized_field() {
    let flag: Flag = serde_json::from_value(
        json!({"key": "f", "samplingRatio": 2, "excludeFromSummaries": true,
        "migration": {}, "clientSideAvailability": {}}),
    )
    .unwrap();
    assert_eq!(
        keys(&serde_json::to_value(&flag).unwrap()).len(),
        Flag::FIELDS.len()
    );
    for field in keys(&serde_json::to_value(&flag).unwrap()) {
        assert!(Flag::FIELDS.contains(&field), "{field}");
    }
    let segment: Segment = serde_json::from_value(
        json!({"key": "s", "unbounded": true, "unboundedContextKind": "user"}),
    )
    .unwrap();
    let serialized = serde_json::to_value(&segment).unwrap();
    assert_eq!(keys(&serialized).len(), Segment::FIELDS.len());
    for field in keys(&serialized) {
        assert!(Segment::FIELDS.contains(&field), "{field}");
    }
}
