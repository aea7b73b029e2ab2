//! `vexil eval --flag`: one evaluation, explained or as JSON.

use serde_json::json;

use crate::harness::{json_lines, vexil, Fixture};

#[test]
fn explains_a_rule_match() {
    let fixture = Fixture::new();
    let context = r#"{"kind": "user", "key": "u-2", "plan": "pro"}"#;
    let outcome = vexil(
        &[
            "eval",
            "--data",
            &fixture.flags(),
            "--flag",
            "new-checkout",
            "--context",
            context,
        ],
        "",
    );
    assert_eq!((outcome.code, outcome.stderr.as_str()), (0, ""));
    assert_eq!(
        outcome.stdout,
        "value:     true\nvariation: 1\nreason:    rule 2 (id r-eu) matched: plan in [\"pro\"]\n"
    );
}

#[test]
fn explains_each_kind_of_result() {
    let fixture = Fixture::new();
    let flags = fixture.flags();
    // (flag, context, extra arguments, expected reason line)
    let cases: &[(&str, &str, &[&str], &str)] = &[
        ("new-checkout", r#"{"key": "u-1"}"#, &[], "target match: key u-1 is in the targets of variation 1"),
        ("new-checkout", r#"{"key": "u-beta"}"#, &[], "rule 0 (id r-beta) matched: in segment \"beta\""),
        ("new-checkout", r#"{"key": "u-3"}"#, &[], "fallthrough: variation 0"),
        ("banner", r#"{"key": "u-3"}"#, &[], "off: serving off variation 1"),
        (
            "payments",
            r#"{"key": "u-3"}"#,
            &[],
            "prerequisite payments-enabled failed: it is off (it must be on and serve variation 0); serving off variation 0",
        ),
        ("missing", r#"{"key": "u-3"}"#, &[], "error FLAG_NOT_FOUND: there is no flag \"missing\" in the data; serving the default"),
        (
            "new-checkout",
            r#"{"kind": "user", "key": ""}"#,
            &[],
            "error USER_NOT_SPECIFIED: the context is invalid: context of kind \"user\" has no key: key must be a non-empty string; serving the default",
        ),
        (
            "banner",
            r#"{"key": "u-3"}"#,
            &["--value-type", "bool", "--default", "false"],
            "error WRONG_TYPE: the flag served \"hi\", which is not a boolean; serving the default",
        ),
    ];
    for (flag, context, extra, reason) in cases {
        let mut args = vec![
            "eval",
            "--data",
            &flags,
            "--flag",
            flag,
            "--context",
            context,
        ];
        args.extend_from_slice(extra);
        let outcome = vexil(&args, "");
        assert_eq!(outcome.code, 0, "{flag} {context}: {}", outcome.stderr);
        let reason_line = outcome
            .stdout
            .lines()
            .find_map(|line| line.strip_prefix("reason:    "));
        assert_eq!(reason_line, Some(*reason), "{flag} {context}");
    }
}

#[test]
fn an_error_shows_the_default_and_no_variation() {
    let fixture = Fixture::new();
    let args = [
        "eval",
        "--data",
        &fixture.flags(),
        "--flag",
        "missing",
        "--context",
        r#"{"key": "u"}"#,
        "--default",
        r#"{"a": [1]}"#,
    ];
    let outcome = vexil(&args, "");
    assert_eq!(outcome.code, 0);
    let mut lines = outcome.stdout.lines();
    assert_eq!(lines.next(), Some(r#"value:     {"a":[1]}"#));
    assert_eq!(lines.next(), Some("variation: none"));
}

#[test]
fn json_prints_the_cases_mode_line() {
    let fixture = Fixture::new();
    let context = r#"{"kind": "user", "key": "u-2", "plan": "pro"}"#;
    let args = [
        "eval",
        "--data",
        &fixture.flags(),
        "--flag",
        "new-checkout",
        "--context",
        context,
        "--json",
    ];
    let outcome = vexil(&args, "");
    assert_eq!((outcome.code, outcome.stderr.as_str()), (0, ""));
    assert_eq!(
        json_lines(&outcome.stdout),
        [
            json!({"value": true, "variationIndex": 1, "reason": {"kind": "RULE_MATCH", "ruleIndex": 2, "ruleId": "r-eu"}})
        ]
    );
}

#[test]
fn a_negative_default_is_a_value_not_an_option() {
    let fixture = Fixture::new();
    let args = [
        "eval",
        "--data",
        &fixture.flags(),
        "--flag",
        "missing",
        "--context",
        r#"{"key": "u"}"#,
        "--default",
        "-1",
        "--json",
    ];
    let outcome = vexil(&args, "");
    assert_eq!((outcome.code, outcome.stderr.as_str()), (0, ""));
    assert_eq!(
        json_lines(&outcome.stdout),
        [
            json!({"value": -1, "variationIndex": null, "reason": {"kind": "ERROR", "errorKind": "FLAG_NOT_FOUND"}})
        ]
    );
}
