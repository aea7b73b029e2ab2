//! Tests for `validate`: each case is an item as JSON and the list of errors it gets.

mod clause;
mod flag;
mod names;
mod references;
mod segment;

use expect_test::{expect, Expect};
use serde_json::{json, Value};

use super::{
    validate_flag, validate_flag_segment_references, validate_prerequisites, validate_segment,
    validate_segment_segment_references, ValidationError,
};
use crate::model::{AllData, Flag, Segment};

/// A valid flag with two variations, with `fields` replacing or adding top-level fields.
fn flag(fields: Value) -> Value {
    merge(
        json!({"key": "f", "on": true, "variations": [false, true], "offVariation": 0,
               "fallthrough": {"variation": 0}}),
        fields,
    )
}

/// A valid flag with one rule whose first clause is `clause` (merged into a valid clause).
fn flag_with_clause(clause: Value) -> Value {
    let clause = merge(
        json!({"contextKind": "user", "attribute": "email", "op": "in", "values": ["a"]}),
        clause,
    );
    flag(json!({"rules": [{"id": "r", "variation": 1, "clauses": [clause]}]}))
}

/// A valid segment with `fields` replacing or adding top-level fields.
fn segment(fields: Value) -> Value {
    merge(json!({"key": "s", "salt": "x"}), fields)
}

fn merge(mut base: Value, fields: Value) -> Value {
    let object = base.as_object_mut().unwrap();
    for (name, value) in fields.as_object().unwrap() {
        object.insert(name.clone(), value.clone());
    }
    base
}

/// One error per line, as `path: reason`.
fn render(errors: &[ValidationError]) -> String {
    errors.iter().map(|error| format!("{error}\n")).collect()
}

#[track_caller]
fn check_flag(flag: Value, expected: Expect) {
    let flag: Flag = serde_json::from_value(flag).unwrap();
    expected.assert_eq(&render(&validate_flag(&flag)));
}

#[track_caller]
fn check_segment(segment: Value, expected: Expect) {
    let segment: Segment = serde_json::from_value(segment).unwrap();
    expected.assert_eq(&render(&validate_segment(&segment)));
}

/// Validates every flag and segment of a polling payload, alone and against the others.
fn validate_all(data: &AllData) -> String {
    let mut out = String::new();
    for flag in data.flags.values() {
        let mut errors = validate_flag(flag);
        errors.extend(validate_prerequisites(flag, |key| data.flags.get(key)));
        errors.extend(validate_flag_segment_references(flag, |key| {
            data.segments.get(key)
        }));
        for error in errors {
            out += &format!("flag {}: {error}\n", flag.key);
        }
    }
    for segment in data.segments.values() {
        let mut errors = validate_segment(segment);
        errors.extend(validate_segment_segment_references(segment, |key| {
            data.segments.get(key)
        }));
        for error in errors {
            out += &format!("segment {}: {error}\n", segment.key);
        }
    }
    out
}

#[test]
fn the_example_data_is_valid() {
    let json = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/flags.json"
    ));
    let data: AllData = serde_json::from_str(json).unwrap();
    assert!(!data.flags.is_empty() && !data.segments.is_empty());
    expect![[""]].assert_eq(&validate_all(&data));
}

#[test]
fn the_spec_examples_are_valid() {
    // Spec 1.1 and 1.8, with the flag's prerequisite and both items' segment references.
    let data: AllData = serde_json::from_value(json!({
        "flags": {
            "new-checkout": {
                "key": "new-checkout", "version": 7, "on": true,
                "variations": [false, true], "offVariation": 0,
                "fallthrough": { "variation": 0 },
                "targets": [ { "values": ["u-100", "u-101"], "variation": 1 } ],
                "contextTargets": [ { "contextKind": "user", "values": [], "variation": 1 },
                                    { "contextKind": "team", "values": ["qa"], "variation": 1 } ],
                "rules": [ {
                    "id": "7c1f0e2a-rule-beta",
                    "clauses": [ { "contextKind": "user", "attribute": "email", "op": "endsWith",
                                   "values": ["@vexil.dev"], "negate": false } ],
                    "rollout": { "kind": "rollout", "contextKind": "user",
                                 "variations": [ { "variation": 0, "weight": 40000 }, { "variation": 1, "weight": 60000 } ] },
                    "trackEvents": false } ],
                "prerequisites": [ { "key": "payments-enabled", "variation": 1 } ],
                "salt": "5b2d9c", "trackEvents": false, "trackEventsFallthrough": false,
                "debugEventsUntilDate": null,
                "clientSideAvailability": { "usingMobileKey": true, "usingEnvironmentId": false },
                "clientSide": false, "deleted": false
            },
            "payments-enabled": {
                "key": "payments-enabled", "on": true, "variations": [false, true],
                "fallthrough": { "rollout": { "kind": "experiment", "contextKind": "org",
                    "bucketBy": "/billing/id", "seed": 61,
                    "variations": [ { "variation": 0, "weight": 50000, "untracked": true },
                                    { "variation": 1, "weight": 50000 } ] } },
                "rules": [ { "id": "r1", "variation": 1, "clauses": [
                    { "contextKind": "user", "attribute": "", "op": "segmentMatch", "values": ["beta-testers"] } ] } ],
                "samplingRatio": 0, "migration": { "checkRatio": 10 }
            }
        },
        "segments": {
            "beta-testers": {
                "key": "beta-testers", "version": 3,
                "included": ["u-7"], "excluded": ["u-9"],
                "includedContexts": [ { "contextKind": "team", "values": ["qa"] } ], "excludedContexts": [],
                "rules": [ { "id": "r1",
                             "clauses": [ { "contextKind": "user", "attribute": "/org/plan", "op": "in",
                                            "values": ["enterprise"], "negate": false },
                                          { "attribute": "", "op": "segmentMatch", "values": ["staff"] } ],
                             "weight": 25000, "rolloutContextKind": "user", "bucketBy": "key" } ],
                "salt": "0e4c11", "deleted": false, "generation": null
            },
            "staff": { "key": "staff", "included": ["u-1"] }
        }
    }))
    .unwrap();
    expect![[""]].assert_eq(&validate_all(&data));
}

#[test]
fn errors_display_as_path_and_reason() {
    let error = ValidationError::new("rules[1].clauses[0].values[2]", "must not be empty");
    assert_eq!(
        error.to_string(),
        "rules[1].clauses[0].values[2]: must not be empty"
    );
}
