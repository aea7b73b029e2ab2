//! `vexil eval --cases`: one JSON result line per case line, in order.

use serde_json::{json, Value};

use crate::harness::{json_lines, vexil, Fixture};

/// Each case line with the result line it must produce.
fn cases() -> Vec<(Value, Value)> {
    vec![
        (
            json!({"flag": "new-checkout", "context": {"kind": "user", "key": "u-1"}, "default": false}),
            json!({"value": true, "variationIndex": 1, "reason": {"kind": "TARGET_MATCH"}}),
        ),
        (
            json!({"flag": "new-checkout", "context": {"kind": "user", "key": "u-beta"}, "default": false}),
            json!({"value": true, "variationIndex": 1, "reason": {"kind": "RULE_MATCH", "ruleIndex": 0, "ruleId": "r-beta"}}),
        ),
        (
            json!({"flag": "new-checkout", "context": {"kind": "user", "key": "u-2", "plan": "pro"}, "default": false}),
            json!({"value": true, "variationIndex": 1, "reason": {"kind": "RULE_MATCH", "ruleIndex": 2, "ruleId": "r-eu"}}),
        ),
        (
            json!({"flag": "new-checkout", "context": {"kind": "user", "key": "u-3"}, "default": false, "valueType": "bool"}),
            json!({"value": false, "variationIndex": 0, "reason": {"kind": "FALLTHROUGH"}}),
        ),
        (
            json!({"flag": "banner", "context": {"key": "u-3"}, "default": "x", "valueType": "string"}),
            json!({"value": "hi", "variationIndex": 1, "reason": {"kind": "OFF"}}),
        ),
        (
            json!({"flag": "payments", "context": {"key": "u-3"}, "default": true}),
            json!({"value": false, "variationIndex": 0, "reason": {"kind": "PREREQUISITE_FAILED", "prerequisiteKey": "payments-enabled"}}),
        ),
        (
            json!({"flag": "missing", "context": {"key": "u-3"}, "default": 42}),
            json!({"value": 42, "variationIndex": null, "reason": {"kind": "ERROR", "errorKind": "FLAG_NOT_FOUND"}}),
        ),
        (
            json!({"flag": "missing", "context": {"key": "u-3"}}),
            json!({"value": null, "variationIndex": null, "reason": {"kind": "ERROR", "errorKind": "FLAG_NOT_FOUND"}}),
        ),
        (
            json!({"flag": "new-checkout", "context": {"kind": "user"}, "default": false}),
            json!({"value": false, "variationIndex": null, "reason": {"kind": "ERROR", "errorKind": "USER_NOT_SPECIFIED"}}),
        ),
        // The context is checked before the flag is looked up.
        (
            json!({"flag": "missing", "context": "not an object", "default": 1}),
            json!({"value": 1, "variationIndex": null, "reason": {"kind": "ERROR", "errorKind": "USER_NOT_SPECIFIED"}}),
        ),
        (
            json!({"flag": "new-checkout", "default": 1}),
            json!({"value": 1, "variationIndex": null, "reason": {"kind": "ERROR", "errorKind": "USER_NOT_SPECIFIED"}}),
        ),
        (
            json!({"flag": "banner", "context": {"key": "u-3"}, "default": false, "valueType": "bool"}),
            json!({"value": false, "variationIndex": null, "reason": {"kind": "ERROR", "errorKind": "WRONG_TYPE"}}),
        ),
        (
            json!({"flag": "banner", "context": {"key": "u-3"}, "default": 0, "valueType": "int"}),
            json!({"value": 0, "variationIndex": null, "reason": {"kind": "ERROR", "errorKind": "WRONG_TYPE"}}),
        ),
    ]
}

fn cases_file(cases: &[(Value, Value)], line_ending: &str) -> String {
    cases
        .iter()
        .map(|(case, _)| format!("{case}{line_ending}"))
        .collect()
}

#[test]
fn each_case_line_gives_its_result_line_in_order() {
    let fixture = Fixture::new();
    let cases = cases();
    let cases_path = fixture.write("cases.jsonl", &cases_file(&cases, "\n"));
    let outcome = vexil(
        &["eval", "--data", &fixture.flags(), "--cases", &cases_path],
        "",
    );
    assert_eq!((outcome.code, outcome.stderr.as_str()), (0, ""));
    let expected: Vec<Value> = cases.into_iter().map(|(_, result)| result).collect();
    assert_eq!(json_lines(&outcome.stdout), expected);
}

#[test]
fn cases_come_from_stdin_with_a_dash_and_may_use_crlf() {
    let fixture = Fixture::new();
    let cases = cases();
    let outcome = vexil(
        &["eval", "--data", &fixture.flags(), "--cases", "-"],
        &cases_file(&cases, "\r\n"),
    );
    assert_eq!((outcome.code, outcome.stderr.as_str()), (0, ""));
    let expected: Vec<Value> = cases.into_iter().map(|(_, result)| result).collect();
    assert_eq!(json_lines(&outcome.stdout), expected);
}

#[test]
fn a_last_line_without_newline_is_evaluated() {
    let fixture = Fixture::new();
    let input = r#"{"flag": "banner", "context": {"key": "u"}}"#;
    let outcome = vexil(&["eval", "--data", &fixture.flags(), "--cases", "-"], input);
    assert_eq!(outcome.code, 0);
    assert_eq!(
        outcome.stdout,
        "{\"value\":\"hi\",\"variationIndex\":1,\"reason\":{\"kind\":\"OFF\"}}\n"
    );
}

#[test]
fn an_empty_cases_file_prints_nothing() {
    let fixture = Fixture::new();
    let outcome = vexil(&["eval", "--data", &fixture.flags(), "--cases", "-"], "");
    assert_eq!(
        (
            outcome.code,
            outcome.stdout.as_str(),
            outcome.stderr.as_str()
        ),
        (0, "", "")
    );
}

#[test]
fn many_cases_stream_through() {
    let fixture = Fixture::new();
    let count = 20_000;
    let input: String = (0..count)
        .map(|index| format!("{{\"flag\": \"new-checkout\", \"context\": {{\"key\": \"u-{index}\"}}, \"default\": false}}\n"))
        .collect();
    let outcome = vexil(
        &["eval", "--data", &fixture.flags(), "--cases", "-"],
        &input,
    );
    assert_eq!(outcome.code, 0);
    let results = json_lines(&outcome.stdout);
    assert_eq!(results.len(), count);
    // u-1 is targeted; everyone else falls through.
    assert_eq!(results[1]["reason"]["kind"], "TARGET_MATCH");
    assert_eq!(
        results[count - 1],
        json!({"value": false, "variationIndex": 0, "reason": {"kind": "FALLTHROUGH"}})
    );
}
