//! Tests for `variation`: defaults, unknown flags, invalid contexts and typed calls.

use serde_json::{json, Value};

use super::{variation_detail, ValueType};
use crate::{Context, FlagData};

fn data() -> FlagData {
    FlagData::from_json(
        r#"{"flags": {
            "text": {"on": true, "variations": ["hello", null], "fallthrough": {"variation": 0}},
            "nothing": {"on": true, "variations": ["hello", null], "fallthrough": {"variation": 1}},
            "dark": {"on": false, "variations": [true]}
        }}"#,
    )
    .unwrap()
}

/// `(flag, context or None for invalid, default, type)` -> `(value, variationIndex, reason JSON)`.
#[track_caller]
fn check(
    flag: &str,
    context: Option<Value>,
    default: Value,
    value_type: ValueType,
    expected: (Value, Option<usize>, Value),
) {
    let data = data();
    let context = context.map(|json| Context::from_json(&json).unwrap());
    let detail = variation_detail(&data, flag, context.as_ref(), &default, value_type);
    let actual = (
        detail.value.cloned().unwrap(),
        detail.variation_index,
        serde_json::to_value(detail.reason).unwrap(),
    );
    assert_eq!(actual, expected);
}

#[test]
fn typed_results_of_the_right_type_are_served() {
    let user = Some(json!({"kind": "user", "key": "u"}));
    check(
        "text",
        user.clone(),
        json!("x"),
        ValueType::String,
        (json!("hello"), Some(0), json!({"kind": "FALLTHROUGH"})),
    );
    check(
        "text",
        user,
        json!("x"),
        ValueType::Any,
        (json!("hello"), Some(0), json!({"kind": "FALLTHROUGH"})),
    );
}

#[test]
fn errors_serve_the_default() {
    let user = || Some(json!({"kind": "user", "key": "u"}));
    let error = |kind: &str| json!({"kind": "ERROR", "errorKind": kind});
    check(
        "text",
        user(),
        json!(false),
        ValueType::Bool,
        (json!(false), None, error("WRONG_TYPE")),
    );
    check(
        "text",
        user(),
        json!(0),
        ValueType::Int,
        (json!(0), None, error("WRONG_TYPE")),
    );
    check(
        "missing",
        user(),
        json!(1.5),
        ValueType::Double,
        (json!(1.5), None, error("FLAG_NOT_FOUND")),
    );
    // The context is checked first, so an unknown flag still reports the invalid context.
    check(
        "missing",
        None,
        json!("d"),
        ValueType::Any,
        (json!("d"), None, error("USER_NOT_SPECIFIED")),
    );
    check(
        "text",
        None,
        json!("d"),
        ValueType::Any,
        (json!("d"), None, error("USER_NOT_SPECIFIED")),
    );
}

#[test]
fn no_value_or_a_null_value_serves_the_default_without_an_error() {
    let user = || Some(json!({"kind": "user", "key": "u"}));
    check(
        "dark",
        user(),
        json!(false),
        ValueType::Bool,
        (json!(false), None, json!({"kind": "OFF"})),
    );
    check(
        "nothing",
        user(),
        json!("d"),
        ValueType::String,
        (json!("d"), Some(1), json!({"kind": "FALLTHROUGH"})),
    );
}

#[test]
fn value_types_parse_from_their_names() {
    assert_eq!("double".parse::<ValueType>(), Ok(ValueType::Double));
    assert!("boolean"
        .parse::<ValueType>()
        .unwrap_err()
        .contains("expected bool"));
}
