//! Tests for the client-side payload: the spec 7.3 example, omission rules, visibility, bucketing.

use serde_json::{json, Value};
use vexil_eval::{AllData, Context, FlagData};

use super::*;

fn data(payload: Value) -> FlagData {
    FlagData::from_all_data(serde_json::from_value::<AllData>(payload).unwrap())
}

fn request(visibility: FlagVisibility, with_reasons: bool) -> ClientRequest {
    ClientRequest {
        visibility,
        with_reasons,
        environment_revision: 1043,
    }
}

#[track_caller]
fn check(data: &FlagData, context: Value, request: ClientRequest, expected: Value) {
    let context = Context::from_json(&context).unwrap();
    let json = evaluate_client_flags(data, &context, &request).to_json();
    assert_eq!(serde_json::from_slice::<Value>(&json).unwrap(), expected);
}

/// Flags that give the example of spec 7.3 for the context `user("u-1")`.
fn spec_example() -> FlagData {
    let browser = json!({"usingEnvironmentId": true, "usingMobileKey": true});
    data(json!({"flags": {
        "new-checkout": {"version": 7, "on": true, "variations": [false, true], "salt": "s",
            "clientSideAvailability": browser, "fallthrough": {"variation": 0},
            "rules": [{"id": "7c1f0e2a-rule-beta", "clauses": [], "rollout": {"kind": "experiment",
                "variations": [{"variation": 0, "weight": 0}, {"variation": 1, "weight": 100000}]}}]},
        "dark-mode": {"version": 3, "on": true, "variations": ["light", "dark", "system"],
            "clientSideAvailability": browser, "fallthrough": {"variation": 2}},
        "kill-switch": {"version": 12, "on": true, "variations": [true, false],
            "offVariation": null, "debugEventsUntilDate": 1718003600000_i64,
            "clientSideAvailability": browser, "fallthrough": {"variation": 0},
            "prerequisites": [{"key": "payments-enabled", "variation": 0}]},
        "payments-enabled": {"version": 2, "on": false, "variations": [true, false], "offVariation": 1,
            "clientSideAvailability": {"usingEnvironmentId": false, "usingMobileKey": false}}
    }}))
}

#[test]
fn payload_matches_the_spec_example() {
    check(
        &spec_example(),
        json!({"kind": "user", "key": "u-1"}),
        request(FlagVisibility::ClientSideId, false),
        json!({
            "new-checkout": { "value": true, "variation": 1, "version": 1043, "flagVersion": 7,
                "trackEvents": true, "trackReason": true,
                "reason": {"kind":"RULE_MATCH","ruleIndex":0,"ruleId":"7c1f0e2a-rule-beta","inExperiment":true} },
            "dark-mode": { "value": "system", "variation": 2, "version": 1043, "flagVersion": 3 },
            "kill-switch": { "value": null, "version": 1043, "flagVersion": 12,
                "debugEventsUntilDate": 1718003600000_i64, "prerequisites": ["payments-enabled"] }
        }),
    );
}

#[test]
fn with_reasons_every_flag_carries_its_reason() {
    check(
        &spec_example(),
        json!({"kind": "user", "key": "u-1"}),
        request(FlagVisibility::MobileKey, true),
        json!({
            "new-checkout": { "value": true, "variation": 1, "version": 1043, "flagVersion": 7,
                "trackEvents": true, "trackReason": true,
                "reason": {"kind":"RULE_MATCH","ruleIndex":0,"ruleId":"7c1f0e2a-rule-beta","inExperiment":true} },
            "dark-mode": { "value": "system", "variation": 2, "version": 1043, "flagVersion": 3,
                "reason": {"kind": "FALLTHROUGH"} },
            "kill-switch": { "value": null, "version": 1043, "flagVersion": 12,
                "reason": {"kind": "PREREQUISITE_FAILED", "prerequisiteKey": "payments-enabled"},
                "debugEventsUntilDate": 1718003600000_i64, "prerequisites": ["payments-enabled"] }
        }),
    );
}

#[test]
fn tracking_follows_track_events_and_experiments() {
    let data = data(json!({"flags": {
        "tracked": {"version": 1, "on": true, "variations": ["a"], "trackEvents": true,
            "fallthrough": {"variation": 0}},
        "tracked-fallthrough": {"version": 1, "on": true, "variations": ["a"],
            "trackEventsFallthrough": true, "fallthrough": {"variation": 0}},
        "tracked-rule": {"version": 1, "on": true, "variations": ["a", "b"],
            "fallthrough": {"variation": 0},
            "rules": [{"id": "r", "clauses": [], "variation": 1, "trackEvents": true}]},
        "off": {"version": 1, "on": false, "variations": ["a"], "offVariation": 0,
            "trackEventsFallthrough": true}
    }}));
    check(
        &data,
        json!({"key": "old-user"}),
        request(FlagVisibility::AllFlags, false),
        json!({
            "off": {"value": "a", "variation": 0, "version": 1043, "flagVersion": 1},
            "tracked": {"value": "a", "variation": 0, "version": 1043, "flagVersion": 1,
                "trackEvents": true},
            "tracked-fallthrough": {"value": "a", "variation": 0, "version": 1043, "flagVersion": 1,
                "trackEvents": true, "trackReason": true, "reason": {"kind": "FALLTHROUGH"}},
            "tracked-rule": {"value": "b", "variation": 1, "version": 1043, "flagVersion": 1,
                "trackEvents": true, "trackReason": true,
                "reason": {"kind": "RULE_MATCH", "ruleIndex": 0, "ruleId": "r"}}
        }),
    );
}

#[test]
fn malformed_flags_and_prerequisite_chains_report_direct_prerequisites_only() {
    let data = data(json!({"flags": {
        "top": {"version": 1, "on": true, "variations": ["a", "b"], "fallthrough": {"variation": 1},
            "prerequisites": [{"key": "middle", "variation": 0}, {"key": "never", "variation": 0}]},
        "middle": {"version": 1, "on": true, "variations": ["a"], "fallthrough": {"variation": 0},
            "prerequisites": [{"key": "bottom", "variation": 0}]},
        "bottom": {"version": 1, "on": true, "variations": ["a"], "fallthrough": {"variation": 0}},
        "never": {"version": 1, "on": true, "variations": ["a"], "fallthrough": {"variation": 0}},
        "broken": {"version": 1, "on": true, "variations": ["a"], "fallthrough": {"variation": 5}}
    }}));
    let context = Context::from_json(&json!({"kind": "user", "key": "u"})).unwrap();
    let flags = evaluate_client_flags(&data, &context, &request(FlagVisibility::AllFlags, true));
    let entry = |key: &str| {
        let flag = flags.flags.iter().find(|flag| flag.key == key).unwrap();
        serde_json::to_value(flag).unwrap()
    };
    assert_eq!(entry("top")["prerequisites"], json!(["middle", "never"]));
    assert_eq!(entry("middle")["prerequisites"], json!(["bottom"]));
    assert_eq!(entry("bottom").get("prerequisites"), None);
    assert_eq!(
        entry("broken"),
        json!({"value": null, "version": 1043, "flagVersion": 1,
            "reason": {"kind": "ERROR", "errorKind": "MALFORMED_FLAG"}})
    );
}

#[test]
fn old_style_users_bucket_with_their_secondary_key() {
    let data = data(
        json!({"flags": {"split": {"key": "split", "version": 1, "on": true,
        "salt": "salt", "variations": (0..100).collect::<Vec<_>>(),
        "fallthrough": {"rollout": {"variations": (0..100)
            .map(|variation| json!({"variation": variation, "weight": 1000}))
            .collect::<Vec<_>>()}}}}}),
    );
    let request = request(FlagVisibility::AllFlags, false);
    let variation = |context: Value| {
        let context = Context::from_json(&context).unwrap();
        evaluate_client_flags(&data, &context, &request).flags[0].variation
    };
    let flag = vexil_eval::Store::flag(&data, "split").unwrap();
    let expected = |context: Value, options| {
        let context = Context::from_json(&context).unwrap();
        vexil_eval::evaluate_with_options(flag, &context, &data, &mut (), options).variation_index
    };
    let old_user = json!({"key": "u-1", "secondary": "s-1"});
    assert_eq!(
        variation(old_user.clone()),
        expected(old_user.clone(), EvaluationOptions::CLIENT_SIDE)
    );
    assert_ne!(
        variation(old_user.clone()),
        expected(old_user, EvaluationOptions::default()),
        "with 100 buckets, u-1 and u-1.s-1 should land apart"
    );
}

#[test]
fn an_empty_environment_is_an_empty_object() {
    check(
        &FlagData::new(),
        json!({"key": ""}),
        request(FlagVisibility::ClientSideId, true),
        json!({}),
    );
}
