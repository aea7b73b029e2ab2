//! Tests for OFREP results: the spec 8.3 example, code defaults, errors and statuses, bulk.

use serde_json::json;
use vexil_eval::{AllData, FlagData};

use super::*;

fn data() -> FlagData {
    let client = json!({"usingEnvironmentId": true, "usingMobileKey": true});
    FlagData::from_all_data(
        serde_json::from_value::<AllData>(json!({"flags": {
            "new-checkout": {"version": 7, "on": true, "variations": [false, true], "salt": "s",
                "clientSideAvailability": client, "fallthrough": {"variation": 0},
                "rules": [{"id": "7c1f0e2a-rule-beta", "clauses": [], "rollout": {"kind": "experiment",
                    "variations": [{"variation": 0, "weight": 0}, {"variation": 1, "weight": 100000}]}}]},
            "no-off-variation": {"version": 2, "on": false, "variations": ["a"],
                "clientSideAvailability": client},
            "null-value": {"version": 1, "on": true, "variations": [null, ["x", 1]],
                "clientSideAvailability": client, "fallthrough": {"variation": 0}},
            "array": {"version": 1, "on": true, "variations": [null, ["x", 1]],
                "fallthrough": {"variation": 1}},
            "broken": {"version": 4, "on": true, "variations": ["a"], "fallthrough": {"variation": 3},
                "clientSideAvailability": client},
            "server-only": {"version": 1, "on": true, "variations": [1.5],
                "fallthrough": {"variation": 0}}
        }}))
        .unwrap(),
    )
}

#[track_caller]
fn single(flag_key: &str, visibility: FlagVisibility) -> (u16, Value) {
    let data = data();
    let context = Context::new("user", "u-5").unwrap();
    let result = evaluate_ofrep_flag(&data, flag_key, &context, visibility);
    (
        result.http_status(),
        serde_json::from_slice(&result.to_json()).unwrap(),
    )
}

#[test]
fn a_success_matches_the_spec_example() {
    assert_eq!(
        single("new-checkout", FlagVisibility::ClientSideId),
        (
            200,
            json!({"key":"new-checkout","value":true,"reason":"SPLIT","variant":"1",
                "metadata":{"flagVersion":7,"ldReasonKind":"RULE_MATCH","ruleIndex":0,
                    "ruleId":"7c1f0e2a-rule-beta","inExperiment":true}})
        )
    );
}

#[test]
fn no_value_and_null_values_are_code_defaults_and_arrays_pass_through() {
    assert_eq!(
        single("no-off-variation", FlagVisibility::AllFlags),
        (
            200,
            json!({"key": "no-off-variation", "reason": "DISABLED",
                "metadata": {"flagVersion": 2, "ldReasonKind": "OFF"}})
        )
    );
    assert_eq!(
        single("null-value", FlagVisibility::AllFlags),
        (
            200,
            json!({"key": "null-value", "reason": "STATIC",
                "metadata": {"flagVersion": 1, "ldReasonKind": "FALLTHROUGH"}})
        )
    );
    assert_eq!(
        single("array", FlagVisibility::AllFlags).1["value"],
        json!(["x", 1])
    );
}

#[test]
fn missing_invisible_and_malformed_flags_are_errors_with_their_statuses() {
    let not_found = |key: &str| {
        (
            404,
            json!({"key": key, "errorCode": "FLAG_NOT_FOUND",
                "errorDetails": format!("flag `{key}` not found")}),
        )
    };
    assert_eq!(single("nope", FlagVisibility::AllFlags), not_found("nope"));
    assert_eq!(
        single("server-only", FlagVisibility::ClientSideId),
        not_found("server-only")
    );
    assert_eq!(single("server-only", FlagVisibility::AllFlags).0, 200);
    assert_eq!(
        single("broken", FlagVisibility::AllFlags),
        (
            400,
            json!({"key": "broken", "errorCode": "PARSE_ERROR",
                "errorDetails": "flag `broken` has a malformed configuration"})
        )
    );
}

#[test]
fn bulk_lists_visible_flags_by_key_with_per_flag_errors() {
    let data = data();
    let context = Context::new("user", "u-5").unwrap();
    let bulk = evaluate_ofrep_bulk(&data, &context, FlagVisibility::ClientSideId, 1043);
    assert_eq!(
        serde_json::from_slice::<Value>(&bulk.to_json()).unwrap(),
        json!({
            "flags": [
                {"key": "broken", "errorCode": "PARSE_ERROR",
                    "errorDetails": "flag `broken` has a malformed configuration"},
                {"key":"new-checkout","value":true,"reason":"SPLIT","variant":"1",
                    "metadata":{"flagVersion":7,"ldReasonKind":"RULE_MATCH","ruleIndex":0,
                        "ruleId":"7c1f0e2a-rule-beta","inExperiment":true}},
                {"key": "no-off-variation", "reason": "DISABLED",
                    "metadata": {"flagVersion": 2, "ldReasonKind": "OFF"}},
                {"key": "null-value", "reason": "STATIC",
                    "metadata": {"flagVersion": 1, "ldReasonKind": "FALLTHROUGH"}}
            ],
            "metadata": {"environmentRevision": 1043}
        })
    );
    let all = evaluate_ofrep_bulk(&data, &context, FlagVisibility::AllFlags, 1043);
    assert_eq!(all.flags.len(), 6);
}
