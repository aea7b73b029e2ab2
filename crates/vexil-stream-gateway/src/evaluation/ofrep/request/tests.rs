//! Tests for OFREP request parsing and context conversion (spec 8.2, 8.4).

use serde_json::json;

use super::*;

#[track_caller]
fn converts_to(ofrep: Value, launchdarkly: Value) {
    let body = serde_json::to_vec(&json!({ "context": ofrep })).unwrap();
    assert_eq!(
        parse_ofrep_request(&body).unwrap(),
        Context::from_json(&launchdarkly).unwrap()
    );
}

#[track_caller]
fn fails_with(body: &str, code: OfrepErrorCode, details: &str) {
    let error = parse_ofrep_request(body.as_bytes()).unwrap_err();
    assert_eq!(error.error_code(), code, "{body}");
    assert_eq!(error.to_string(), details, "{body}");
}

#[test]
fn the_spec_example_converts() {
    converts_to(
        json!({"targetingKey": "u-5", "kind": "user", "plan": "pro", "anonymous": false}),
        json!({"kind": "user", "key": "u-5", "plan": "pro", "anonymous": false}),
    );
}

#[test]
fn kind_defaults_to_user_and_the_key_comes_from_targeting_key_then_key() {
    converts_to(
        json!({"targetingKey": "t"}),
        json!({"kind": "user", "key": "t"}),
    );
    converts_to(
        json!({"targetingKey": "t", "key": "k", "kind": 7}),
        json!({"kind": "user", "key": "t"}),
    );
    converts_to(
        json!({"targetingKey": "", "key": "k", "kind": "org"}),
        json!({"kind": "org", "key": "k"}),
    );
    converts_to(
        json!({"targetingKey": 5, "key": "k"}),
        json!({"kind": "user", "key": "k"}),
    );
}

#[test]
fn built_in_attributes_of_the_wrong_type_are_dropped() {
    converts_to(
        json!({"targetingKey": "t", "name": 5, "anonymous": "yes", "privateAttributes": "plan",
            "_meta": {"privateAttributes": ["x"]}, "plan": "pro"}),
        json!({"kind": "user", "key": "t", "plan": "pro"}),
    );
    converts_to(
        json!({"targetingKey": "t", "name": "Ann", "anonymous": true,
            "privateAttributes": ["email", 3, "/address/zip"], "email": "a@x.io"}),
        json!({"kind": "user", "key": "t", "name": "Ann", "anonymous": true, "email": "a@x.io",
            "_meta": {"privateAttributes": ["email", "/address/zip"]}}),
    );
}

#[test]
fn multi_kind_contexts_convert_each_object_property() {
    converts_to(
        json!({"kind": "multi", "targetingKey": "ignored", "tier": "gold",
            "user": {"targetingKey": "u", "kind": "ignored-too", "plan": "pro"},
            "org": {"key": "acme", "name": "Acme", "privateAttributes": ["seats"], "seats": 40}}),
        json!({"kind": "multi", "user": {"key": "u", "plan": "pro"},
            "org": {"key": "acme", "name": "Acme", "seats": 40, "_meta": {"privateAttributes": ["seats"]}}}),
    );
    converts_to(
        json!({"kind": "multi", "device": {"targetingKey": "d"}}),
        json!({"kind": "device", "key": "d"}),
    );
}

#[test]
fn bad_bodies_and_contexts_map_to_ofrep_error_codes() {
    use OfrepErrorCode::*;
    fails_with(
        "{",
        ParseError,
        "request body is not valid JSON: EOF while parsing an object at line 1 column 1",
    );
    let no_context = "request body must be a JSON object with a `context` object";
    for body in ["[]", "{}", r#"{"context": 5}"#, r#"{"context": null}"#] {
        fails_with(body, ParseError, no_context);
    }
    let missing = r#"context of kind "user" has no targeting key: `targetingKey` (or `key`) must be a non-empty string"#;
    for context in [
        r#"{}"#,
        r#"{"targetingKey": ""}"#,
        r#"{"key": 5}"#,
        r#"{"key": ""}"#,
    ] {
        fails_with(
            &format!(r#"{{"context": {context}}}"#),
            TargetingKeyMissing,
            missing,
        );
    }
    fails_with(
        r#"{"context": {"kind": "multi", "user": {"key": "u"}, "org": {"name": "Acme"}}}"#,
        TargetingKeyMissing,
        r#"context of kind "org" has no targeting key: `targetingKey` (or `key`) must be a non-empty string"#,
    );
    fails_with(
        r#"{"context": {"kind": "multi", "targetingKey": "u"}}"#,
        InvalidContext,
        "invalid context: multi-kind context must contain at least one individual context",
    );
    fails_with(
        r#"{"context": {"kind": "kind", "targetingKey": "u"}}"#,
        InvalidContext,
        r#"invalid context: context kind "kind" is invalid: use only letters, digits, '.', '_' and '-', and not "kind""#,
    );
    fails_with(
        r#"{"context": {"kind": "multi", "bad kind": {"key": "u"}}}"#,
        InvalidContext,
        r#"invalid context: context kind "bad kind" is invalid: use only letters, digits, '.', '_' and '-', and not "kind""#,
    );
}

#[test]
fn request_errors_become_ofrep_bodies_with_or_without_the_flag_key() {
    let error = parse_ofrep_request(br#"{"context": {}}"#).unwrap_err();
    let single: Value = serde_json::from_slice(&error.to_ofrep_error(Some("f")).to_json()).unwrap();
    assert_eq!(single["key"], "f");
    assert_eq!(single["errorCode"], "TARGETING_KEY_MISSING");
    let bulk = error.to_ofrep_error(None);
    assert_eq!(bulk.http_status(), 400);
    assert_eq!(
        serde_json::from_slice::<Value>(&bulk.to_json()).unwrap(),
        json!({"errorCode": "TARGETING_KEY_MISSING", "errorDetails": error.to_string()})
    );
}
