//! Tests for `operators`: one table per operator, context value against clause values.

use serde_json::{json, Value};

use super::Matcher;

#[track_caller]
fn check(op: &str, cases: &[(Value, Value, bool)]) {
    for (context_value, clause_value, expected) in cases {
        let matcher = Matcher::prepare(op, std::slice::from_ref(clause_value));
        assert_eq!(
            matcher.matches(context_value),
            *expected,
            "{context_value} {op} {clause_value}"
        );
    }
}

#[test]
fn in_uses_json_type_aware_equality() {
    check(
        "in",
        &[
            (json!("a"), json!("a"), true),
            (json!("a"), json!("A"), false),
            (json!(1), json!(1.0), true),
            (json!(1.5), json!(1.5), true),
            (json!(1), json!(2), false),
            (json!(true), json!(true), true),
            (json!(true), json!(1), false),
            (json!(1), json!("1"), false),
            (json!("1"), json!(1), false),
            (json!(null), json!(null), false),
            (json!([1]), json!([1]), false),
            (json!({"a": 1}), json!({"a": 1}), false),
        ],
    );
}

#[test]
fn in_with_many_strings_uses_the_set() {
    let values: Vec<Value> = (0..100)
        .map(|i| json!(format!("k{i}")))
        .chain([json!(7)])
        .collect();
    let matcher = Matcher::prepare("in", &values);
    assert!(matcher.matches(&json!("k99")));
    assert!(matcher.matches(&json!(7.0)));
    assert!(!matcher.matches(&json!("k100")));
}

#[test]
fn string_operators_need_two_strings() {
    check(
        "startsWith",
        &[
            (json!("abc"), json!("ab"), true),
            (json!("abc"), json!("bc"), false),
            (json!(12), json!("1"), false),
        ],
    );
    check(
        "endsWith",
        &[
            (json!("abc"), json!("bc"), true),
            (json!("abc"), json!("ab"), false),
            (json!("abc"), json!(1), false),
        ],
    );
    check(
        "contains",
        &[
            (json!("abc"), json!("b"), true),
            (json!("abc"), json!("B"), false),
            (json!(["b"]), json!("b"), false),
        ],
    );
}

#[test]
fn matches_searches_anywhere_and_ignores_invalid_patterns() {
    check(
        "matches",
        &[
            (json!("hello world"), json!("o w"), true),
            (json!("hello"), json!("^h.*o$"), true),
            (json!("hello"), json!("^e"), false),
            (json!("hello"), json!("("), false),
            (json!(5), json!("5"), false),
        ],
    );
}

#[test]
fn numeric_operators_compare_numbers_only() {
    check(
        "lessThan",
        &[
            (json!(1), json!(2), true),
            (json!(2), json!(2), false),
            (json!("1"), json!(2), false),
        ],
    );
    check(
        "lessThanOrEqual",
        &[(json!(2), json!(2.0), true), (json!(3), json!(2), false)],
    );
    check(
        "greaterThan",
        &[
            (json!(3), json!(2), true),
            (json!(2), json!(2), false),
            (json!(3), json!("2"), false),
        ],
    );
    check(
        "greaterThanOrEqual",
        &[(json!(2.0), json!(2), true), (json!(1), json!(2), false)],
    );
}

#[test]
fn date_operators_accept_epoch_millis_and_rfc3339() {
    let early = json!("2017-12-06T00:00:00.000-07:00");
    let same = json!(1512543600000_i64);
    check(
        "before",
        &[
            (json!(1512543599999_i64), early.clone(), true),
            (same.clone(), early.clone(), false),
            (json!("2017-12-06T06:59:59Z"), same.clone(), true),
            (json!("2017-12-06"), same.clone(), false),
            (json!(true), same.clone(), false),
        ],
    );
    check(
        "after",
        &[
            (json!("2017-12-06T07:00:00.001Z"), early.clone(), true),
            (same.clone(), early, false),
            (json!("1512543600001"), same, false),
        ],
    );
}

#[test]
fn semver_operators_compare_by_precedence() {
    check(
        "semVerEqual",
        &[
            (json!("2.0"), json!("2.0.0"), true),
            (json!("2.0.0+build"), json!("2.0.0"), true),
            (json!("2.0.1"), json!("2.0.0"), false),
        ],
    );
    check(
        "semVerLessThan",
        &[
            (json!("2.0.0-rc"), json!("2.0.0"), true),
            (json!("2.0.0"), json!("2.0.0-rc"), false),
            (json!("v1.0.0"), json!("2.0.0"), false),
        ],
    );
    check(
        "semVerGreaterThan",
        &[
            (json!("2.0.1"), json!("2"), true),
            (json!(3), json!("2.0.0"), false),
        ],
    );
}

#[test]
fn unknown_operators_never_match() {
    check("notAnOperator", &[(json!("a"), json!("a"), false)]);
}
