//! Bad input exits with code 2 and an error naming the file, line, column, flag and JSON path.

use crate::harness::{vexil, Fixture};

const CASE: &str = r#"{"flag": "banner", "context": {"key": "u"}}"#;
const CASE_RESULT: &str = r#"{"value":"hi","variationIndex":1,"reason":{"kind":"OFF"}}"#;

#[test]
fn a_malformed_data_file_names_file_line_column_flag_and_json_path() {
    let fixture = Fixture::new();
    let data = fixture.write(
        "flags.json",
        r#"{
  "flags": {
    "my-flag": {
      "on": true,
      "rules": [
        {"id": "r1", "clauses": [
          {"attribute": "plan", "op": "in", "values": ["pro"]},
          {"attribute": "plan", "op": 3, "values": []}
        ]}
      ]
    }
  }
}"#,
    );
    let outcome = vexil(&["eval", "--data", &data, "--cases", "-"], CASE);
    assert_eq!(outcome.code, 2);
    assert_eq!(outcome.stdout, "");
    assert_eq!(
        outcome.stderr,
        format!(
            "error: {data}:8:39: invalid flag data for flag \"my-flag\" at flags.my-flag.rules[0].clauses[1].op: \
             invalid type: integer `3`, expected a string\n"
        )
    );
}

#[test]
fn malformed_data_names_segments_and_flag_keys_with_dots() {
    let fixture = Fixture::new();
    // (data file, expected stderr after "error: FILE:")
    let cases = [
        (
            r#"{"flags": {"a.b": {"variations": 3}}}"#,
            r#"1:34: invalid flag data for flag "a.b" at flags.a.b.variations: invalid type: integer `3`, expected a sequence"#,
        ),
        (
            r#"{"segments": {"beta": {"included": [1]}}}"#,
            r#"1:37: invalid flag data for segment "beta" at segments.beta.included[0]: invalid type: integer `1`, expected a string"#,
        ),
        // Not even JSON: the key ends before the first field name of a flag.
        (
            "{\"flags\": {\"a.b\": {\"on\": true,\n",
            r#"2: invalid flag data for flag "a.b" at flags.a.b.?: EOF while parsing a value"#,
        ),
        (
            r#"{"flags": 7}"#,
            r#"1:11: invalid flag data at flags: invalid type: integer `7`, expected a map"#,
        ),
        ("", "1: invalid flag data: EOF while parsing a value"),
    ];
    for (contents, expected) in cases {
        let data = fixture.write("flags.json", contents);
        let outcome = vexil(&["eval", "--data", &data, "--cases", "-"], CASE);
        assert_eq!(outcome.code, 2, "{contents}");
        assert_eq!(
            outcome.stderr,
            format!("error: {data}:{expected}\n"),
            "{contents}"
        );
    }
}

#[test]
fn a_malformed_case_line_names_file_line_and_field_after_the_lines_before_it() {
    let fixture = Fixture::new();
    let data = fixture.flags();
    // (bad line, expected stderr after "error: FILE:2")
    let cases = [
        (
            r#"{"flag": 3, "context": {"key": "u"}}"#,
            r#": field "flag" must be a string, found a number"#,
        ),
        (
            r#"{"context": {"key": "u"}}"#,
            r#": missing field "flag" (the key of the flag to evaluate)"#,
        ),
        (
            r#"["banner"]"#,
            ": a case must be a JSON object, found an array",
        ),
        (
            r#"{"flag": "banner", "valueType": "float"}"#,
            r#": field "valueType": unknown value type "float": expected bool, int, double, string or any"#,
        ),
        (
            r#"{"flag": "banner", "contxt": {"key": "u"}}"#,
            r#": unknown field "contxt": a case has only "flag", "context", "default" and "valueType""#,
        ),
        (
            r#"{"flag": "banner", "context": {"key": "u"},}"#,
            ":44: invalid JSON: trailing comma",
        ),
        ("", ": blank line: each line must be one case"),
    ];
    for (bad_line, expected) in cases {
        let cases_path = fixture.write("cases.jsonl", &format!("{CASE}\n{bad_line}\n{CASE}\n"));
        let outcome = vexil(&["eval", "--data", &data, "--cases", &cases_path], "");
        assert_eq!(outcome.code, 2, "{bad_line}");
        assert_eq!(
            outcome.stderr,
            format!("error: {cases_path}:2{expected}\n"),
            "{bad_line}"
        );
        assert_eq!(outcome.stdout, format!("{CASE_RESULT}\n"), "{bad_line}");
    }
}

#[test]
fn stdin_is_named_in_case_errors() {
    let fixture = Fixture::new();
    let outcome = vexil(
        &["eval", "--data", &fixture.flags(), "--cases", "-"],
        "42\n",
    );
    assert_eq!(
        (outcome.code, outcome.stderr.as_str()),
        (
            2,
            "error: <stdin>:1: a case must be a JSON object, found a number\n"
        )
    );
}

#[test]
fn unreadable_files_name_the_path_and_os_error() {
    let fixture = Fixture::new();
    let flags = fixture.flags();
    let missing = fixture.path("missing.json");
    let directory = fixture.path("");
    let directory = directory.trim_end_matches('/');
    let cases = [
        (
            vec!["eval", "--data", &missing, "--cases", "-"],
            format!("error: cannot read {missing}: No such file or directory (os error 2)\n"),
        ),
        (
            vec!["eval", "--data", &flags, "--cases", &missing],
            format!("error: cannot read {missing}: No such file or directory (os error 2)\n"),
        ),
        (
            vec!["eval", "--data", directory, "--cases", "-"],
            format!("error: cannot read {directory}: Is a directory (os error 21)\n"),
        ),
        (
            vec!["eval", "--data", &flags, "--cases", directory],
            format!("error: cannot read {directory}: Is a directory (os error 21)\n"),
        ),
    ];
    for (args, expected) in cases {
        let outcome = vexil(&args, "");
        assert_eq!((outcome.code, outcome.stderr), (2, expected), "{args:?}");
    }
}

#[test]
fn bad_usage_exits_with_code_2() {
    let fixture = Fixture::new();
    let flags = fixture.flags();
    let cases: [&[&str]; 6] = [
        &["eval", "--data", &flags],
        &["eval", "--cases", "-"],
        &["eval", "--data", &flags, "--flag", "banner"],
        &[
            "eval",
            "--data",
            &flags,
            "--cases",
            "-",
            "--flag",
            "banner",
            "--context",
            "{}",
        ],
        &[
            "eval",
            "--data",
            &flags,
            "--flag",
            "banner",
            "--context",
            "{not json",
        ],
        &[
            "eval",
            "--data",
            &flags,
            "--flag",
            "banner",
            "--context",
            "{}",
            "--value-type",
            "float",
        ],
    ];
    for args in cases {
        let outcome = vexil(args, "");
        assert_eq!(outcome.code, 2, "{args:?}");
        assert!(
            outcome.stderr.starts_with("error: "),
            "{args:?}: {}",
            outcome.stderr
        );
    }
}

#[test]
fn a_bare_word_default_hints_at_quotes() {
    let fixture = Fixture::new();
    let args = [
        "eval",
        "--data",
        &fixture.flags(),
        "--flag",
        "banner",
        "--context",
        "{}",
        "--default",
        "off",
    ];
    let outcome = vexil(&args, "");
    assert_eq!(outcome.code, 2);
    assert!(
        outcome
            .stderr
            .contains("a string needs quotes, e.g. '\"off\"'"),
        "{}",
        outcome.stderr
    );
}
