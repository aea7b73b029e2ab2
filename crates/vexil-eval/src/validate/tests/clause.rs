//! Clauses: operator, attribute, context kind, and values typed for their operator.

use expect_test::expect;
use serde_json::{json, Value};

use super::{check_flag, flag_with_clause};
use crate::model::Flag;
use crate::operators::Matcher;
use crate::validate::clause::OPERATORS;
use crate::validate::validate_flag;

#[test]
fn valid_clauses_have_no_errors() {
    let valid = [
        json!({"op": "in", "values": ["a", 1, 2.5, true]}),
        json!({"op": "startsWith", "values": ["", "ab"]}),
        json!({"op": "matches", "values": ["^[a-z]+@example\\.com$", "(?i)x"]}),
        json!({"op": "lessThanOrEqual", "values": [-1, 1e300]}),
        json!({"op": "before", "values": [1512543600000u64, "2017-12-06T00:00:00.000-07:00"]}),
        json!({"op": "semVerGreaterThan", "values": ["2", "2.0.0-rc.1+build.5"]}),
        json!({"op": "segmentMatch", "attribute": "", "contextKind": "", "values": ["beta"]}),
        json!({"op": "in", "attribute": "/a~1b/c", "values": ["x"]}),
        // Without a context kind the attribute is a literal name (spec 1.10).
        json!({"contextKind": null, "attribute": "/a~b", "values": ["x"]}),
        json!({"contextKind": "org", "attribute": "kind", "values": ["org"], "negate": true}),
    ];
    for clause in valid {
        let flag: Flag = serde_json::from_value(flag_with_clause(clause.clone())).unwrap();
        assert_eq!(validate_flag(&flag), [], "{clause}");
    }
}

#[test]
fn operator_attribute_kind_and_values() {
    check_flag(
        flag_with_clause(json!({"op": "equals", "values": [null]})),
        expect![[r#"
            rules[0].clauses[0].op: unknown operator "equals"; expected one of in, endsWith, startsWith, matches, contains, lessThan, lessThanOrEqual, greaterThan, greaterThanOrEqual, before, after, semVerEqual, semVerLessThan, semVerGreaterThan, segmentMatch
        "#]],
    );
    check_flag(
        flag_with_clause(json!({"attribute": "", "values": []})),
        expect![[r#"
            rules[0].clauses[0].attribute: must not be empty
            rules[0].clauses[0].values: must not be empty
        "#]],
    );
    check_flag(
        flag_with_clause(json!({"contextKind": null, "attribute": ""})),
        expect![[r#"
            rules[0].clauses[0].attribute: must not be empty
        "#]],
    );
    check_flag(
        flag_with_clause(json!({"attribute": "/a//b"})),
        expect![[r#"
        rules[0].clauses[0].attribute: invalid attribute reference "/a//b": a path component is empty
    "#]],
    );
    check_flag(
        flag_with_clause(json!({"attribute": "/a~2"})),
        expect![[r#"
        rules[0].clauses[0].attribute: invalid attribute reference "/a~2": '~' must be followed by '0' or '1'
    "#]],
    );
    check_flag(
        flag_with_clause(json!({"contextKind": "a b"})),
        expect![[r#"
            rules[0].clauses[0].contextKind: may contain only ASCII letters, digits, '.', '_' and '-', not ' '
        "#]],
    );
}

#[test]
fn values_have_the_type_their_operator_compares() {
    let check = |op: &str, values: Value, expected| {
        check_flag(
            flag_with_clause(json!({"op": op, "values": values})),
            expected,
        );
    };
    check(
        "in",
        json!([null, [1], {"a": 1}, "ok"]),
        expect![[r#"
        rules[0].clauses[0].values[0]: `in` compares strings, numbers and booleans; null never matches
        rules[0].clauses[0].values[1]: `in` compares strings, numbers and booleans; [1] never matches
        rules[0].clauses[0].values[2]: `in` compares strings, numbers and booleans; {"a":1} never matches
    "#]],
    );
    check(
        "endsWith",
        json!(["ok", 1]),
        expect![[r#"
        rules[0].clauses[0].values[1]: `endsWith` needs a string, not 1
    "#]],
    );
    check(
        "contains",
        json!([true]),
        expect![[r#"
        rules[0].clauses[0].values[0]: `contains` needs a string, not true
    "#]],
    );
    check(
        "matches",
        json!(["(", "a{2,1}", 5, "ok"]),
        expect![[r#"
        rules[0].clauses[0].values[0]: invalid regular expression "(": unclosed group
        rules[0].clauses[0].values[1]: invalid regular expression "a{2,1}": invalid repetition count range, the start must be <= the end
        rules[0].clauses[0].values[2]: `matches` needs a regular expression string, not 5
    "#]],
    );
    check(
        "greaterThan",
        json!(["5", 5]),
        expect![[r#"
        rules[0].clauses[0].values[0]: `greaterThan` needs a number, not "5"
    "#]],
    );
    check(
        "after",
        json!([
            "2024-01-31",
            "1512543600000",
            "2024-02-30T00:00:00Z",
            true,
            1e300
        ]),
        expect![[r#"
            rules[0].clauses[0].values[0]: `after` needs a Unix time in milliseconds or an RFC 3339 date-time such as "2024-01-31T12:00:00Z", not "2024-01-31"
            rules[0].clauses[0].values[1]: `after` needs a Unix time in milliseconds or an RFC 3339 date-time such as "2024-01-31T12:00:00Z", not "1512543600000"
            rules[0].clauses[0].values[2]: `after` needs a Unix time in milliseconds or an RFC 3339 date-time such as "2024-01-31T12:00:00Z", not "2024-02-30T00:00:00Z"
            rules[0].clauses[0].values[3]: `after` needs a Unix time in milliseconds or an RFC 3339 date-time such as "2024-01-31T12:00:00Z", not true
            rules[0].clauses[0].values[4]: `after` needs a Unix time in milliseconds or an RFC 3339 date-time such as "2024-01-31T12:00:00Z", not 1e+300
        "#]],
    );
    check(
        "semVerEqual",
        json!(["v1.0.0", "1.0.0.0", "01.0.0", 1, "1.0.0"]),
        expect![[r#"
            rules[0].clauses[0].values[0]: `semVerEqual` needs a semantic version such as "1.2.3" or "2.0.0-rc.1", not "v1.0.0"
            rules[0].clauses[0].values[1]: `semVerEqual` needs a semantic version such as "1.2.3" or "2.0.0-rc.1", not "1.0.0.0"
            rules[0].clauses[0].values[2]: `semVerEqual` needs a semantic version such as "1.2.3" or "2.0.0-rc.1", not "01.0.0"
            rules[0].clauses[0].values[3]: `semVerEqual` needs a semantic version such as "1.2.3" or "2.0.0-rc.1", not 1
        "#]],
    );
    check(
        "segmentMatch",
        json!([1, "bad key", "", "fine"]),
        expect![[r#"
            rules[0].clauses[0].values[0]: `segmentMatch` needs segment keys (strings), not 1
            rules[0].clauses[0].values[1]: invalid segment key "bad key": may contain only ASCII letters, digits, '.', '_' and '-', not ' '
            rules[0].clauses[0].values[2]: invalid segment key "": must not be empty
        "#]],
    );
}

#[test]
fn long_values_are_shortened_in_messages() {
    check_flag(
        flag_with_clause(json!({"op": "lessThan", "values": ["x".repeat(100)]})),
        expect![[r#"
            rules[0].clauses[0].values[0]: `lessThan` needs a number, not "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...
        "#]],
    );
}

#[test]
fn the_operator_list_is_the_one_evaluation_knows() {
    for op in OPERATORS {
        assert!(!matches!(Matcher::prepare(op, &[]), Matcher::Never), "{op}");
    }
    for op in ["", "In", "equals", "semVerLessThanOrEqual"] {
        assert!(matches!(Matcher::prepare(op, &[]), Matcher::Never), "{op}");
    }
}

#[test]
fn a_pattern_is_valid_exactly_when_evaluation_compiles_it() {
    let patterns = [
        "a",
        "(",
        "[",
        "a{2,1}",
        "\\",
        "(?P<n>x)",
        "(?<n>x)",
        "x(?=y)",
        "\\1",
        "\\p{Greek}",
        "(?i)é",
        "\\d+",
        "a**",
        "[[:alpha:]]",
    ];
    for pattern in patterns {
        let compiles_at_evaluation = matches!(
            Matcher::prepare("matches", &[json!(pattern)]),
            Matcher::Matches(compiled) if compiled.len() == 1
        );
        let clause = json!({"op": "matches", "values": [pattern]});
        let flag: Flag = serde_json::from_value(flag_with_clause(clause)).unwrap();
        assert_eq!(
            validate_flag(&flag).is_empty(),
            compiles_at_evaluation,
            "{pattern}"
        );
    }
}

#[test]
fn a_pattern_too_big_to_compile_is_reported_in_one_line() {
    check_flag(
        flag_with_clause(json!({"op": "matches", "values": ["\\w{1000}{1000}"]})),
        expect![[r#"
            rules[0].clauses[0].values[0]: invalid regular expression "\\w{1000}{1000}": compiled regex exceeds size limit of 10485760 bytes
        "#]],
    );
}
